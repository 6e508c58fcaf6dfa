build-rb/src/jsonstream.o: src/jsonstream.c src/jsonstream.h
src/jsonstream.h:
