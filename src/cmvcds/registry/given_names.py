"""Common given names, for the free-text identity screen (``free_text.py``; probe12 #7, review11 W2).

A person's name written without a title or a capitalised surname ("Maria Rossi", "ROSSI Maria",
"Rossi Maria") is recognised by its given name. The list: the given names most often given in
Italy (ISTAT's yearly statistics of the names of children born in Italy, the first fifty or so of
each sex over recent decades, and older frequent names of the mothers' generation), with common
English ones and a few frequent among foreign-born residents. Compiled by hand for screening, not
checked row by row against ISTAT's tables: a missing name makes the screen miss, never refuse; a
name that is also an ordinary word is only taken next to another capitalised word.
"""

from __future__ import annotations

__all__ = ["GIVEN_NAMES"]

_ITALIAN_F = (
    "Maria Anna Giuseppina Rosa Angela Giovanna Teresa Lucia Carmela Caterina Francesca Antonia "
    "Rita Paola Laura Sara Giulia Chiara Elena Valentina Alessandra Silvia Federica Martina "
    "Roberta Elisa Simona Cristina Barbara Monica Daniela Stefania Patrizia Claudia Francesca "
    "Sofia Aurora Alice Ginevra Emma Giorgia Beatrice Greta Ludovica Matilde Vittoria Noemi "
    "Camilla Arianna Bianca Nicole Gaia Rebecca Azzurra Carlotta Benedetta Marta Irene Ilaria "
    "Eleonora Serena Veronica Michela Manuela Marina Antonella Raffaella Loredana Rossella "
    "Emanuela Donatella Tiziana Sabrina Cinzia Elisabetta Margherita Giada Viola Nadia Luisa "
    "Franca Gabriella Graziella Letizia Lorenza Mariangela Annalisa Annamaria Mariarosaria "
    "Concetta Immacolata Assunta Filomena Vincenza Nunzia Rosaria Carla Alessia Debora Deborah "
    "Erica Erika Jessica Miriam Noemi Ornella Pamela Tania Vanessa Viviana Licia Agnese Adele"
)
_ITALIAN_M = (
    "Giuseppe Giovanni Antonio Mario Luigi Francesco Angelo Vincenzo Pietro Salvatore Carlo "
    "Franco Domenico Bruno Paolo Michele Giorgio Aldo Sergio Luciano Marco Andrea Luca Stefano "
    "Alessandro Roberto Massimo Fabio Davide Matteo Lorenzo Leonardo Riccardo Tommaso Edoardo "
    "Gabriele Emanuele Federico Simone Filippo Diego Mattia Nicola Daniele Claudio Maurizio "
    "Alberto Enrico Fabrizio Gianluca Raffaele Emilio Enzo Renato Walter Cristian Christian "
    "Samuele Pietro Alessio Jacopo Giacomo Elia Cesare Ettore Guido Piero Gianni Ugo Umberto"
)
_OTHER = (
    "Mary Elizabeth Jennifer Linda Susan Sarah Jessica Karen Emily Olivia Sophia Charlotte "
    "Amelia Isabella Ava Mia Grace Lily Hannah Fatima Aisha Amina Mariam Ana Elena Ioana "
    "Andreea Olga Natalia Svetlana Mei Li John James Robert Michael William David Richard Thomas "
    "Mohamed Mohammed Ahmed Ali Omar Ion Gheorghe"
)
GIVEN_NAMES = frozenset(n.casefold() for n in f"{_ITALIAN_F} {_ITALIAN_M} {_OTHER}".split())
