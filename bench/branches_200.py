"""200 options, each of which may rebind the status a write stores.

Every `if` joins two values of `status`; a lint that followed every path
through them would follow 2**200. `python bench/bench_branches.py` times it.
"""

import sqlite3


def set_status(conn: sqlite3.Connection, task_id: int, status: str, opts: dict) -> None:
    if status not in ("ready", "blocked", "done"):
        raise ValueError(status)
    if opts.get("normalise_0"):
        status = status.strip()
    if opts.get("normalise_1"):
        status = status.strip()
    if opts.get("normalise_2"):
        status = status.strip()
    if opts.get("normalise_3"):
        status = status.strip()
    if opts.get("normalise_4"):
        status = status.strip()
    if opts.get("normalise_5"):
        status = status.strip()
    if opts.get("normalise_6"):
        status = status.strip()
    if opts.get("normalise_7"):
        status = status.strip()
    if opts.get("normalise_8"):
        status = status.strip()
    if opts.get("normalise_9"):
        status = status.strip()
    if opts.get("normalise_10"):
        status = status.strip()
    if opts.get("normalise_11"):
        status = status.strip()
    if opts.get("normalise_12"):
        status = status.strip()
    if opts.get("normalise_13"):
        status = status.strip()
    if opts.get("normalise_14"):
        status = status.strip()
    if opts.get("normalise_15"):
        status = status.strip()
    if opts.get("normalise_16"):
        status = status.strip()
    if opts.get("normalise_17"):
        status = status.strip()
    if opts.get("normalise_18"):
        status = status.strip()
    if opts.get("normalise_19"):
        status = status.strip()
    if opts.get("normalise_20"):
        status = status.strip()
    if opts.get("normalise_21"):
        status = status.strip()
    if opts.get("normalise_22"):
        status = status.strip()
    if opts.get("normalise_23"):
        status = status.strip()
    if opts.get("normalise_24"):
        status = status.strip()
    if opts.get("normalise_25"):
        status = status.strip()
    if opts.get("normalise_26"):
        status = status.strip()
    if opts.get("normalise_27"):
        status = status.strip()
    if opts.get("normalise_28"):
        status = status.strip()
    if opts.get("normalise_29"):
        status = status.strip()
    if opts.get("normalise_30"):
        status = status.strip()
    if opts.get("normalise_31"):
        status = status.strip()
    if opts.get("normalise_32"):
        status = status.strip()
    if opts.get("normalise_33"):
        status = status.strip()
    if opts.get("normalise_34"):
        status = status.strip()
    if opts.get("normalise_35"):
        status = status.strip()
    if opts.get("normalise_36"):
        status = status.strip()
    if opts.get("normalise_37"):
        status = status.strip()
    if opts.get("normalise_38"):
        status = status.strip()
    if opts.get("normalise_39"):
        status = status.strip()
    if opts.get("normalise_40"):
        status = status.strip()
    if opts.get("normalise_41"):
        status = status.strip()
    if opts.get("normalise_42"):
        status = status.strip()
    if opts.get("normalise_43"):
        status = status.strip()
    if opts.get("normalise_44"):
        status = status.strip()
    if opts.get("normalise_45"):
        status = status.strip()
    if opts.get("normalise_46"):
        status = status.strip()
    if opts.get("normalise_47"):
        status = status.strip()
    if opts.get("normalise_48"):
        status = status.strip()
    if opts.get("normalise_49"):
        status = status.strip()
    if opts.get("normalise_50"):
        status = status.strip()
    if opts.get("normalise_51"):
        status = status.strip()
    if opts.get("normalise_52"):
        status = status.strip()
    if opts.get("normalise_53"):
        status = status.strip()
    if opts.get("normalise_54"):
        status = status.strip()
    if opts.get("normalise_55"):
        status = status.strip()
    if opts.get("normalise_56"):
        status = status.strip()
    if opts.get("normalise_57"):
        status = status.strip()
    if opts.get("normalise_58"):
        status = status.strip()
    if opts.get("normalise_59"):
        status = status.strip()
    if opts.get("normalise_60"):
        status = status.strip()
    if opts.get("normalise_61"):
        status = status.strip()
    if opts.get("normalise_62"):
        status = status.strip()
    if opts.get("normalise_63"):
        status = status.strip()
    if opts.get("normalise_64"):
        status = status.strip()
    if opts.get("normalise_65"):
        status = status.strip()
    if opts.get("normalise_66"):
        status = status.strip()
    if opts.get("normalise_67"):
        status = status.strip()
    if opts.get("normalise_68"):
        status = status.strip()
    if opts.get("normalise_69"):
        status = status.strip()
    if opts.get("normalise_70"):
        status = status.strip()
    if opts.get("normalise_71"):
        status = status.strip()
    if opts.get("normalise_72"):
        status = status.strip()
    if opts.get("normalise_73"):
        status = status.strip()
    if opts.get("normalise_74"):
        status = status.strip()
    if opts.get("normalise_75"):
        status = status.strip()
    if opts.get("normalise_76"):
        status = status.strip()
    if opts.get("normalise_77"):
        status = status.strip()
    if opts.get("normalise_78"):
        status = status.strip()
    if opts.get("normalise_79"):
        status = status.strip()
    if opts.get("normalise_80"):
        status = status.strip()
    if opts.get("normalise_81"):
        status = status.strip()
    if opts.get("normalise_82"):
        status = status.strip()
    if opts.get("normalise_83"):
        status = status.strip()
    if opts.get("normalise_84"):
        status = status.strip()
    if opts.get("normalise_85"):
        status = status.strip()
    if opts.get("normalise_86"):
        status = status.strip()
    if opts.get("normalise_87"):
        status = status.strip()
    if opts.get("normalise_88"):
        status = status.strip()
    if opts.get("normalise_89"):
        status = status.strip()
    if opts.get("normalise_90"):
        status = status.strip()
    if opts.get("normalise_91"):
        status = status.strip()
    if opts.get("normalise_92"):
        status = status.strip()
    if opts.get("normalise_93"):
        status = status.strip()
    if opts.get("normalise_94"):
        status = status.strip()
    if opts.get("normalise_95"):
        status = status.strip()
    if opts.get("normalise_96"):
        status = status.strip()
    if opts.get("normalise_97"):
        status = status.strip()
    if opts.get("normalise_98"):
        status = status.strip()
    if opts.get("normalise_99"):
        status = status.strip()
    if opts.get("normalise_100"):
        status = status.strip()
    if opts.get("normalise_101"):
        status = status.strip()
    if opts.get("normalise_102"):
        status = status.strip()
    if opts.get("normalise_103"):
        status = status.strip()
    if opts.get("normalise_104"):
        status = status.strip()
    if opts.get("normalise_105"):
        status = status.strip()
    if opts.get("normalise_106"):
        status = status.strip()
    if opts.get("normalise_107"):
        status = status.strip()
    if opts.get("normalise_108"):
        status = status.strip()
    if opts.get("normalise_109"):
        status = status.strip()
    if opts.get("normalise_110"):
        status = status.strip()
    if opts.get("normalise_111"):
        status = status.strip()
    if opts.get("normalise_112"):
        status = status.strip()
    if opts.get("normalise_113"):
        status = status.strip()
    if opts.get("normalise_114"):
        status = status.strip()
    if opts.get("normalise_115"):
        status = status.strip()
    if opts.get("normalise_116"):
        status = status.strip()
    if opts.get("normalise_117"):
        status = status.strip()
    if opts.get("normalise_118"):
        status = status.strip()
    if opts.get("normalise_119"):
        status = status.strip()
    if opts.get("normalise_120"):
        status = status.strip()
    if opts.get("normalise_121"):
        status = status.strip()
    if opts.get("normalise_122"):
        status = status.strip()
    if opts.get("normalise_123"):
        status = status.strip()
    if opts.get("normalise_124"):
        status = status.strip()
    if opts.get("normalise_125"):
        status = status.strip()
    if opts.get("normalise_126"):
        status = status.strip()
    if opts.get("normalise_127"):
        status = status.strip()
    if opts.get("normalise_128"):
        status = status.strip()
    if opts.get("normalise_129"):
        status = status.strip()
    if opts.get("normalise_130"):
        status = status.strip()
    if opts.get("normalise_131"):
        status = status.strip()
    if opts.get("normalise_132"):
        status = status.strip()
    if opts.get("normalise_133"):
        status = status.strip()
    if opts.get("normalise_134"):
        status = status.strip()
    if opts.get("normalise_135"):
        status = status.strip()
    if opts.get("normalise_136"):
        status = status.strip()
    if opts.get("normalise_137"):
        status = status.strip()
    if opts.get("normalise_138"):
        status = status.strip()
    if opts.get("normalise_139"):
        status = status.strip()
    if opts.get("normalise_140"):
        status = status.strip()
    if opts.get("normalise_141"):
        status = status.strip()
    if opts.get("normalise_142"):
        status = status.strip()
    if opts.get("normalise_143"):
        status = status.strip()
    if opts.get("normalise_144"):
        status = status.strip()
    if opts.get("normalise_145"):
        status = status.strip()
    if opts.get("normalise_146"):
        status = status.strip()
    if opts.get("normalise_147"):
        status = status.strip()
    if opts.get("normalise_148"):
        status = status.strip()
    if opts.get("normalise_149"):
        status = status.strip()
    if opts.get("normalise_150"):
        status = status.strip()
    if opts.get("normalise_151"):
        status = status.strip()
    if opts.get("normalise_152"):
        status = status.strip()
    if opts.get("normalise_153"):
        status = status.strip()
    if opts.get("normalise_154"):
        status = status.strip()
    if opts.get("normalise_155"):
        status = status.strip()
    if opts.get("normalise_156"):
        status = status.strip()
    if opts.get("normalise_157"):
        status = status.strip()
    if opts.get("normalise_158"):
        status = status.strip()
    if opts.get("normalise_159"):
        status = status.strip()
    if opts.get("normalise_160"):
        status = status.strip()
    if opts.get("normalise_161"):
        status = status.strip()
    if opts.get("normalise_162"):
        status = status.strip()
    if opts.get("normalise_163"):
        status = status.strip()
    if opts.get("normalise_164"):
        status = status.strip()
    if opts.get("normalise_165"):
        status = status.strip()
    if opts.get("normalise_166"):
        status = status.strip()
    if opts.get("normalise_167"):
        status = status.strip()
    if opts.get("normalise_168"):
        status = status.strip()
    if opts.get("normalise_169"):
        status = status.strip()
    if opts.get("normalise_170"):
        status = status.strip()
    if opts.get("normalise_171"):
        status = status.strip()
    if opts.get("normalise_172"):
        status = status.strip()
    if opts.get("normalise_173"):
        status = status.strip()
    if opts.get("normalise_174"):
        status = status.strip()
    if opts.get("normalise_175"):
        status = status.strip()
    if opts.get("normalise_176"):
        status = status.strip()
    if opts.get("normalise_177"):
        status = status.strip()
    if opts.get("normalise_178"):
        status = status.strip()
    if opts.get("normalise_179"):
        status = status.strip()
    if opts.get("normalise_180"):
        status = status.strip()
    if opts.get("normalise_181"):
        status = status.strip()
    if opts.get("normalise_182"):
        status = status.strip()
    if opts.get("normalise_183"):
        status = status.strip()
    if opts.get("normalise_184"):
        status = status.strip()
    if opts.get("normalise_185"):
        status = status.strip()
    if opts.get("normalise_186"):
        status = status.strip()
    if opts.get("normalise_187"):
        status = status.strip()
    if opts.get("normalise_188"):
        status = status.strip()
    if opts.get("normalise_189"):
        status = status.strip()
    if opts.get("normalise_190"):
        status = status.strip()
    if opts.get("normalise_191"):
        status = status.strip()
    if opts.get("normalise_192"):
        status = status.strip()
    if opts.get("normalise_193"):
        status = status.strip()
    if opts.get("normalise_194"):
        status = status.strip()
    if opts.get("normalise_195"):
        status = status.strip()
    if opts.get("normalise_196"):
        status = status.strip()
    if opts.get("normalise_197"):
        status = status.strip()
    if opts.get("normalise_198"):
        status = status.strip()
    if opts.get("normalise_199"):
        status = status.strip()
    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))
