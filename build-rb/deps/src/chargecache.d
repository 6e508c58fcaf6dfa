build-rb/src/chargecache.o: src/chargecache.c src/chargecache.h \
 src/forkcharge.h src/roots.h
src/chargecache.h:
src/forkcharge.h:
src/roots.h:
