"""The generic LONI adapter: image collections downloaded from LONI's Image and Data Archive
(ADNI, AIBL and the other studies the IDA distributes) in, image frames out."""
