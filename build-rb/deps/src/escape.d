build-rb/src/escape.o: src/escape.c src/escape.h
src/escape.h:
