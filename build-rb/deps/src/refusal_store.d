build-rb/src/refusal_store.o: src/refusal_store.c src/jsonval.h \
 src/refusal.h src/refusal_store.h src/util.h
src/jsonval.h:
src/refusal.h:
src/refusal_store.h:
src/util.h:
