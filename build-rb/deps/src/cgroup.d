build-rb/src/cgroup.o: src/cgroup.c src/cgroup.h src/roots.h src/util.h
src/cgroup.h:
src/roots.h:
src/util.h:
