build-rb/src/bootid.o: src/bootid.c src/bootid.h src/roots.h src/util.h
src/bootid.h:
src/roots.h:
src/util.h:
