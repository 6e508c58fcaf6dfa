build-rb/src/learn.o: src/learn.c src/learn.h src/statedir.h \
 src/jsonval.h src/util.h
src/learn.h:
src/statedir.h:
src/jsonval.h:
src/util.h:
