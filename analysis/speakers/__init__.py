"""Who speaks when: speaker identity, references, attribution, timing and talk time.

How the parts fit, in the order the corpus build uses them:
``identity`` maps file labels to catalog people; ``reference`` reads the hand-made speaker
references (the only ground truth); ``attribution`` gives unlabelled speech a speaker with a
model trained on those references; ``timing`` gives every utterance start/end seconds;
``talktime`` computes the talk-time tables from the corpus; ``evaluation`` measures attribution
and timing against the references (leave one episode out)."""
