// Names of the kinds of mistakes, as learners read them.
export const KIND_LABELS = {
  grammar: 'grammar', spelling: 'spelling', punctuation: 'punctuation', capitalization: 'capital letters',
  missing_word: 'missing word', extra_word: 'extra word', word_order: 'word order',
};
