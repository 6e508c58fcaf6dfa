build-rb/src/model.o: src/model.c src/model.h src/forkcharge.h \
 src/roots.h src/meminfo.h src/proc.h src/vmsysctl.h src/chargecache.h
src/model.h:
src/forkcharge.h:
src/roots.h:
src/meminfo.h:
src/proc.h:
src/vmsysctl.h:
src/chargecache.h:
