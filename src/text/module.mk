# src/text/module.mk: build settings of the text vectorizers.
#
# The tokenizer takes character categories and case mappings from
# libutf8proc (src/embed links it too; naming it twice is harmless).

SHLIB_LINK += -lutf8proc
