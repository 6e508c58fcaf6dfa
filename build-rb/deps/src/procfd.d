build-rb/src/procfd.o: src/procfd.c src/procfd.h src/roots.h src/proc.h
src/procfd.h:
src/roots.h:
src/proc.h:
