build-rb/src/jsonval.o: src/jsonval.c src/jsonval.h
src/jsonval.h:
