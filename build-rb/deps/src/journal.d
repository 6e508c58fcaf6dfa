build-rb/src/journal.o: src/journal.c src/journal.h src/statedir.h \
 src/jsonstream.h src/jsonval.h src/util.h
src/journal.h:
src/statedir.h:
src/jsonstream.h:
src/jsonval.h:
src/util.h:
