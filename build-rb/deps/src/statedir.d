build-rb/src/statedir.o: src/statedir.c src/statedir.h
src/statedir.h:
