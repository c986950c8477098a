# src/embed/module.mk: build settings of the embedding subsystem.
#
# ONNX Runtime itself is never linked: src/embed/ort.c opens it with dlopen
# on first use.  libutf8proc does the tokenizer's Unicode work.  "make
# install" also installs the ONNX Runtime library that
# scripts/onnxruntime.sh fetched (if it did) to $(pkglibdir)/vsim/, the
# default of the setting vsim.onnxruntime_library.

SHLIB_LINK += -lutf8proc -ldl -lpthread

VSIM_ORT_LIB = build/onnxruntime/libonnxruntime.so.1

.PHONY: install-onnxruntime uninstall-onnxruntime
install: install-onnxruntime
uninstall: uninstall-onnxruntime

install-onnxruntime:
	@if [ -f '$(VSIM_ORT_LIB)' ]; then \
		$(MKDIR_P) '$(DESTDIR)$(pkglibdir)/vsim' && \
		$(INSTALL_SHLIB) '$(VSIM_ORT_LIB)' '$(DESTDIR)$(pkglibdir)/vsim/libonnxruntime.so.1'; \
	else \
		echo "note: $(VSIM_ORT_LIB) not found; run scripts/onnxruntime.sh for vsim.embed()"; \
	fi

uninstall-onnxruntime:
	rm -f '$(DESTDIR)$(pkglibdir)/vsim/libonnxruntime.so.1'
