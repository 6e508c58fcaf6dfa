build-rb/src/log.o: src/log.c src/log.h src/escape.h
src/log.h:
src/escape.h:
