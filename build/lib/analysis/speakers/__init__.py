"""Who speaks when: speaker identity, references, attribution, timing and talk time.

How the parts fit, in the order the corpus build uses them:
``identity`` maps file labels to catalog people; ``reference`` reads the hand-made speaker
references (the only ground truth); ``attribution`` gives unlabelled speech a speaker with a
model trained on those references only (a versioned, cached artifact), or refuses with a
reason; ``timing`` gives every utterance start/end seconds; ``talktime`` computes the talk-time tables from the corpus (``questions`` says which sentences
are questions to the other person); ``evaluation`` measures attribution and timing against the
references (leave one episode out), and only on episodes that have one."""
