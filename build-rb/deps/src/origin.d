build-rb/src/origin.o: src/origin.c src/origin.h
src/origin.h:
