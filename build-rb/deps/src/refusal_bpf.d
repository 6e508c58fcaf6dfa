build-rb/src/refusal_bpf.o: src/refusal_bpf.c src/../bpf/refusal_abi.h \
 src/refusal_bpf.h src/roots.h src/util.h build-rb/bpf/refusal.skel.h
src/../bpf/refusal_abi.h:
src/refusal_bpf.h:
src/roots.h:
src/util.h:
build-rb/bpf/refusal.skel.h:
