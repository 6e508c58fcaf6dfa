build-rb/src/refusal.o: src/refusal.c src/../bpf/refusal_abi.h \
 src/refusal.h src/util.h
src/../bpf/refusal_abi.h:
src/refusal.h:
src/util.h:
