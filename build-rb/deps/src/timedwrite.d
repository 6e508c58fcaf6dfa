build-rb/src/timedwrite.o: src/timedwrite.c src/timedwrite.h src/util.h
src/timedwrite.h:
src/util.h:
