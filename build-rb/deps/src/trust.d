build-rb/src/trust.o: src/trust.c src/trust.h src/proc.h src/roots.h \
 src/util.h
src/trust.h:
src/proc.h:
src/roots.h:
src/util.h:
