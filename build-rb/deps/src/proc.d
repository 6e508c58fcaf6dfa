build-rb/src/proc.o: src/proc.c src/proc.h src/roots.h src/util.h
src/proc.h:
src/roots.h:
src/util.h:
