"""Words the synthetic ledger is made of: names, places, industries, reasons, titles.

Plain data, so that the generator reads as logic and these lists can grow without touching
it. Pinyin rides along with the name characters because emails are spelled from it, and
initials ride along with place syllables because organization codes are spelled from them.
No value here contains a comma or a quote, which keeps every CSV cell unquoted.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    """The words of `text`: long lists of pairs read better as one string."""
    return text.split()


COUNTY_CODE = "TH"
COUNTY_NAME = "中共太湖县委"
#: resident ID area codes: (code for people born 1988 or later, code before 1988, weight).
#: Anqing's counties were renumbered in 1988 and python-stdnum checks the code was in use
#: in the birth year, so an 80-year-old from 太湖县 carries 342825, a 30-year-old 340825.
ID_AREAS: tuple[tuple[str, str, int], ...] = (
    ("340825", "342825", 85),  # 太湖县
    ("340822", "342821", 4),  # 怀宁县
    ("340826", "342826", 5),  # 宿松县
    ("340827", "342827", 3),  # 望江县
    ("340828", "342828", 3),  # 岳西县
)

#: (surname, pinyin), roughly by frequency
SURNAMES: tuple[tuple[str, str], ...] = tuple(
    (pair[0], pair[1:])
    for pair in _words(
        "王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun 马ma "
        "朱zhu 胡hu 郭guo 何he 高gao 林lin 罗luo 郑zheng 梁liang 谢xie 宋song 唐tang 许xu "
        "韩han 冯feng 邓deng 曹cao 彭peng 曾zeng 肖xiao 田tian 董dong 袁yuan 潘pan 于yu "
        "蒋jiang 蔡cai 余yu 杜du 叶ye 程cheng 苏su 魏wei 吕lv 丁ding 任ren 沈shen 姚yao "
        "卢lu 姜jiang 崔cui 钟zhong 谭tan 陆lu 汪wang 范fan 金jin 石shi 廖liao 贾jia 夏xia "
        "韦wei 方fang 储chu 殷yin 檀tan"
    )
)

#: (character, pinyin) used for given names of one or two characters
GIVEN: tuple[tuple[str, str], ...] = tuple(
    (pair[0], pair[1:])
    for pair in _words(
        "伟wei 芳fang 娜na 敏min 静jing 丽li 强qiang 磊lei 军jun 洋yang 勇yong 艳yan "
        "杰jie 涛tao 明ming 超chao 秀xiu 霞xia 平ping 刚gang 桂gui 英ying 华hua 兰lan "
        "建jian 国guo 志zhi 红hong 文wen 春chun 海hai 林lin 玉yu 金jin 荣rong 东dong "
        "德de 辉hui 鹏peng 飞fei 斌bin 波bo 宇yu 浩hao 凯kai 俊jun 峰feng 燕yan 梅mei "
        "琴qin 云yun 莲lian 珍zhen 凤feng 学xue 小xiao 新xin 永yong 成cheng 长chang "
        "胜sheng 松song 青qing 雪xue 晓xiao 佳jia 鑫xin 婷ting 倩qian 欣xin 慧hui"
    )
)

#: the county's real towns and townships, with the initials of their names
REAL_TOWNS: tuple[tuple[str, str], ...] = (
    ("晋熙镇", "JX"),
    ("新仓镇", "XC"),
    ("徐桥镇", "XQ"),
    ("小池镇", "XCH"),
    ("寺前镇", "SQ"),
    ("天华镇", "TH"),
    ("牛镇镇", "NZ"),
    ("弥陀镇", "MT"),
    ("北中镇", "BZ"),
    ("百里镇", "BL"),
    ("汤泉乡", "TQ"),
    ("刘畈乡", "LF"),
    ("城西乡", "CX"),
    ("江塘乡", "JT"),
    ("大石乡", "DS"),
)

#: syllables for made-up town and village names, each with its pinyin initial
PLACE_SYLLABLES: tuple[tuple[str, str], ...] = tuple(
    (pair[0], pair[1])
    for pair in _words(
        "石S 桥Q 河H 塘T 山S 岭L 湾W 冲C 畈F 坪P 岗G 林L 花H 亭T 店D 铺P 庄Z 园Y 新X "
        "民M 联L 合H 丰F 胜S 利L 和H 平P 安A 东D 西X 南N 北B 中Z 上S 下X 大D 小X 长C "
        "高G 黄H 龙L 凤F 马M 杨Y 柳L 松S 竹Z 梅M 桃T 白B 青Q 金J 银Y 泉Q 溪X 峰F 岩Y "
        "桂G 兴X 福F 寿S 永Y 乐L 宝B 华H 光G 明M 阳Y 春C 秋Q 望W 仓C 池C 湖H 港G"
    )
)

#: where mobile members live now (现居住地), with a weight; the city part names the host
LOCATIONS: tuple[tuple[str, int], ...] = (
    ("浙江省杭州市", 14),
    ("浙江省宁波市", 6),
    ("浙江省温州市", 3),
    ("上海市", 13),
    ("江苏省苏州市", 9),
    ("江苏省南京市", 4),
    ("江苏省无锡市", 3),
    ("广东省深圳市", 9),
    ("广东省东莞市", 6),
    ("广东省广州市", 5),
    ("北京市", 5),
    ("安徽省合肥市", 10),
    ("安徽省安庆市", 4),
    ("福建省厦门市", 3),
    ("湖北省武汉市", 3),
    ("天津市", 2),
    ("山东省青岛市", 1),
)

#: host organizations (流入地党组织) outside the county tree: (code, name, location served)
HOST_ORGS: tuple[tuple[str, str, str], ...] = (
    ("LR-HZXS", "杭州市萧山区流动党员服务中心党委", "浙江省杭州市"),
    ("LR-SHSJ", "上海市松江区流动党员党委", "上海市"),
    ("LR-SZGY", "苏州工业园区流动党员党总支", "江苏省苏州市"),
    ("LR-SZBA", "深圳市宝安区流动党员党委", "广东省深圳市"),
    ("LR-DGCA", "东莞市长安镇流动党员党支部", "广东省东莞市"),
    ("LR-HFSS", "合肥市蜀山区流动党员党委", "安徽省合肥市"),
    ("LR-NBYZ", "宁波市鄞州区流动党员党总支", "浙江省宁波市"),
    ("LR-BJCY", "北京市朝阳区流动党员党委", "北京市"),
)

INDUSTRIES: tuple[str, ...] = (
    "建筑业",
    "制造业",
    "餐饮服务",
    "批发零售",
    "交通运输",
    "物流快递",
    "家政服务",
    "电子商务",
    "信息技术",
    "教育培训",
    "医疗卫生",
    "装修装饰",
    "农业种植",
    "个体经营",
    "金融保险",
)

REASONS: tuple[tuple[str, int], ...] = (
    ("务工", 55),
    ("经商", 20),
    ("求学", 6),
    ("随迁", 9),
    ("投亲", 4),
    ("就医", 2),
    ("其他", 4),
)

MUTE_REASONS: tuple[str, ...] = ("住院治疗", "出国探亲", "身体原因暂停联系", "外出培训")

INTERACTION_NOTES: dict[str, tuple[str, ...]] = {
    "phone": ("电话了解近况", "提醒参加主题党日", "电话询问工作情况", "提醒按时交纳党费"),
    "sms": ("短信推送学习提示", "短信提醒主题党日"),
    "wechat": ("微信推送学习资料", "微信语音交流", "微信群通知组织生活"),
    "visit": ("上门走访", "走访慰问", "到务工地走访", "送学上门"),
    "meeting": ("参加线上组织生活会", "参加支部党员大会"),
    "other": ("托家属转达学习资料", "由村干部代为联系"),
}

COUNTY_CAMPAIGNS: tuple[str, ...] = (
    "学习贯彻党的二十届四中全会精神",
    "党纪学习教育",
)
TOWN_CAMPAIGN_TITLES: tuple[str, ...] = (
    "流动党员冬训学习",
    "乡村振兴专题学习",
    "书记讲党课学习资料",
    "安全生产与法治学习",
)

LECTURE_TOPICS: tuple[str, ...] = ("传承红色基因", "乡村振兴与党员责任", "党章学习", "全面从严治党")
