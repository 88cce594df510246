"""The sandbox corp's directory: the three offices of the regulation (art. 3) and a few teaching
departments, each with a leader and staff. Office, publicity, tech and admin roles are granted
to the users named in DEMO_GRANTS when the sandbox starts."""

DEMO_DEPARTMENTS = [
    # id, name, parent id
    (1, "西安广播电视大学", 0),
    (2, "党政办公室", 1),
    (3, "宣传部", 1),
    (4, "教育技术与资源中心", 1),
    (5, "文法学院", 1),
    (6, "经济管理学院", 1),
    (7, "理工学院", 1),
    (8, "开放教育学院", 1),
]

DEMO_USERS = [
    # userid, name, position, [(department id, is leader)]
    ("wangwu", "王五", "主任", [(2, True)]),
    ("zhaoliu", "赵六", "科员", [(2, False)]),
    ("sunqi", "孙七", "科员", [(2, False)]),
    ("zhouba", "周八", "部长", [(3, True)]),
    ("wujiu", "吴九", "干事", [(3, False)]),
    ("zhengshi", "郑十", "主任", [(4, True)]),
    ("chenyi", "陈一", "工程师", [(4, False)]),
    ("liming", "李明", "院长", [(5, True)]),
    ("zhangsan", "张三", "教师", [(5, False)]),
    ("lisi", "李四", "教师", [(5, False), (8, False)]),
    ("hanmei", "韩梅", "院长", [(6, True)]),
    ("liulei", "刘雷", "教师", [(6, False)]),
    ("gaofeng", "高峰", "院长", [(7, True)]),
    ("xuli", "徐丽", "教师", [(7, False)]),
    ("qianjin", "钱进", "院长", [(8, True)]),
    ("zhangwei", "张伟", "教师", [(8, False)]),
    ("zhangwei2", "张伟", "辅导员", [(6, False)]),
]

DEMO_GRANTS = [
    # userid, role
    ("wangwu", "office"),
    ("zhaoliu", "office"),
    ("sunqi", "admin"),
    ("zhouba", "publicity"),
    ("wujiu", "publicity"),
    ("zhengshi", "tech"),
    ("chenyi", "tech"),
]


def user_json(userid: str, users=DEMO_USERS) -> dict | None:
    """The user/get answer for a demo user (fields a post-2022 self-built app still receives)."""
    for uid, name, position, places in users:
        if uid == userid:
            return {
                "userid": uid,
                "name": name,
                "position": position,
                "department": [d for d, _ in places],
                "is_leader_in_dept": [1 if leader else 0 for _, leader in places],
                "main_department": places[0][0],
                "status": 1,
            }
    return None


def department_json(dept_id: int, users=DEMO_USERS) -> dict:
    """A department entry as department/list returns it, with department_leader."""
    for did, name, parent in DEMO_DEPARTMENTS:
        if did == dept_id:
            leaders = [u for u, _, _, places in users if (did, True) in places]
            return {"id": did, "name": name, "parentid": parent, "order": did,
                    "department_leader": leaders}
    raise KeyError(dept_id)


def subtree(dept_id: int) -> list[int]:
    """`dept_id` and every department below it."""
    found = [dept_id]
    for did, _, parent in DEMO_DEPARTMENTS:
        if parent == dept_id:
            found.extend(subtree(did))
    return found
