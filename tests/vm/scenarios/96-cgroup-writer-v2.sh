# cgroup-writer-v2: on cgroup v2, `apply` places a small Redis into
# /overcommitd/redis and limits it (memory.high, memory.max) through
# libcgroup, "+memory" journaled before it goes into each subtree_control;
# `restore` gives back every file (compared with a snapshot taken before)
# and moves a process started inside the group back before removing it
# (tests/vm/cgwriter.sh).
# vm-timeout: 60
. /oc/cgwriter.sh
cgw_run v2
