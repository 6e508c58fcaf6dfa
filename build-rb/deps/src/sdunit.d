build-rb/src/sdunit.o: src/sdunit.c src/sdunit.h
src/sdunit.h:
