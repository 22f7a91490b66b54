"""Natural-language applications on recurrent networks: sentiment analysis (SST-2, SST-5, UCI
sentences), character-level text generation (Tiny Shakespeare) and machine translation
(Multi30k English to German with attention)."""
