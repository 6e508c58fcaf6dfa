build-rb/src/episode.o: src/episode.c src/episode.h src/learn.h \
 src/statedir.h src/proc.h src/roots.h
src/episode.h:
src/learn.h:
src/statedir.h:
src/proc.h:
src/roots.h:
