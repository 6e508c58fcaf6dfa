build-rb/src/roots.o: src/roots.c src/roots.h
src/roots.h:
