# cgroup-writer-v1: the same on a cgroup v1 memory hierarchy (RHEL 8):
# memory.limit_in_bytes and memory.soft_limit_in_bytes through libcgroup,
# every thread of Redis moved; `status` names the hierarchy
# (tests/vm/cgwriter.sh).
# vm-cgroup: v1
# vm-timeout: 60
. /oc/cgwriter.sh
cgw_run v1
