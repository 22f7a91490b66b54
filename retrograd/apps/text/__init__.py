"""Text classification with recurrent networks: sentiment analysis on the Stanford Sentiment
Treebank (SST-2, SST-5) and UCI's labelled review sentences."""
