build-rb/src/forkcharge.o: src/forkcharge.c src/forkcharge.h src/roots.h \
 src/util.h
src/forkcharge.h:
src/roots.h:
src/util.h:
