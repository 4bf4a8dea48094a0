"""The main window: sidebar, topic bar, message view, members, input, status bar."""

from __future__ import annotations

import dataclasses
import html

from PyQt6.QtCore import QEvent, QItemSelectionModel, QModelIndex, Qt, QTimer, QUrl, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QInputDialog,
    QLabel,
    QListView,
    QMainWindow,
    QSplitter,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from chinwag_client.client import ConnectionLost, RequestFailed
from chinwag_client.tls import TLSTrustError
from gui_client import APP_NAME
from gui_client.controller import ChatController
from gui_client.models.conversations import Conversation, ConversationModel, ConvKind
from gui_client.models.members import MemberModel
from gui_client.models.messages import Kind
from gui_client.notifications import Notifier
from gui_client.session import ConnState, NotConnected, Target
from gui_client.settings import ConnectionProfile, Settings
from gui_client.widgets import theme
from gui_client.widgets.connect_dialog import ConnectDialog
from gui_client.widgets.icon import app_icon
from gui_client.widgets.input_line import InputLine
from gui_client.widgets.message_view import MessageView
from gui_client.widgets.quick_switcher import QuickSwitcher
from gui_client.widgets.room_browser import RoomBrowser
from gui_client.widgets.sidebar import Sidebar
from gui_client.widgets.trust_dialog import certificate_dialog

SHORTCUTS = [
    ("Ctrl+K", "quick switcher: jump to a conversation by name"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "next / previous conversation"),
    ("Alt+1 … Alt+9", "the first … ninth conversation"),
    ("Ctrl+W", "leave the room / close the direct chat"),
    ("Ctrl+J", "browse and join rooms"),
    ("Ctrl+N", "new direct message"),
    ("Up / Down", "recall lines you sent"),
    ("Tab", "complete a nick"),
    ("Page Up / Page Down", "scroll the messages"),
    ("Ctrl+Q", "quit"),
]

_STATE_COLOURS = {
    ConnState.CONNECTED: "#2e9e5b",
    ConnState.CONNECTING: "#d99a1e",
    ConnState.RECONNECTING: "#d99a1e",
    ConnState.DISCONNECTED: "#c0392b",
}


class MainWindow(QMainWindow):
    #: the window closed (main awaits the session's quit)
    closed = pyqtSignal()

    def __init__(self, controller: ChatController, settings: Settings) -> None:
        super().__init__()
        self.controller = controller
        self.session = controller.session
        self.settings = settings
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.setStyleSheet(theme.STYLE_SHEET)
        self.notifier = Notifier(settings, self, app_icon())
        self.connect_dialog: ConnectDialog | None = None
        self.room_browser: RoomBrowser | None = None
        self.switcher: QuickSwitcher | None = None
        self._last_profile: ConnectionProfile | None = None
        self._shown: Conversation | None = None
        self._build()
        self._bind()
        self._shortcuts()
        self._menus()
        self._show_conversation(None)
        geometry = settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 700)

    # ---- layout ---------------------------------------------------------------

    def _build(self) -> None:
        self.sidebar = Sidebar()
        self.sidebar.setModel(self.controller.convs)
        self.topic_bar = QLabel()
        self.topic_bar.setObjectName("topicBar")
        self.topic_bar.setAccessibleName("Topic")
        self.topic_bar.setTextFormat(Qt.TextFormat.RichText)
        self.topic_bar.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_view = MessageView()
        self.input = InputLine()
        self.input.nicks = self._completion_nicks
        self.members = MemberModel(self)
        self.member_list = QListView()
        self.member_list.setObjectName("memberList")
        self.member_list.setAccessibleName("Members")
        self.member_list.setModel(self.members)
        self.member_list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.member_list.setSpacing(2)
        self.members_header = QLabel()
        self.members_header.setObjectName("membersHeader")

        center = QWidget()
        col = QVBoxLayout(center)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.topic_bar)
        col.addWidget(self.message_view, 1)
        col.addWidget(self.input)
        self.member_panel = QWidget()
        mcol = QVBoxLayout(self.member_panel)
        mcol.setContentsMargins(0, 0, 0, 0)
        mcol.setSpacing(0)
        mcol.addWidget(self.members_header)
        mcol.addWidget(self.member_list, 1)

        self.splitter = QSplitter()
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.member_panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([200, 720, 170])
        self.setCentralWidget(self.splitter)

        status = QStatusBar()
        status.setObjectName("statusBar")
        status.setAccessibleName("Connection status")
        self.state_label = QLabel()
        self.state_label.setObjectName("connectionState")
        self.state_label.setAccessibleName("Connection state")
        status.addPermanentWidget(self.state_label)
        self.setStatusBar(status)
        self._on_state(self.session.state, "Not connected")
        self.setTabOrder(self.input, self.sidebar)

    def _bind(self) -> None:
        c = self.controller
        c.window_active = self.isActiveWindow
        c.currentChanged.connect(self._show_conversation)
        c.conversationUpdated.connect(self._conversation_updated)
        c.notify.connect(self.notifier.notify)
        c.roomBrowserRequested.connect(self.open_room_browser)
        c.quitRequested.connect(self.close)
        c.nickChanged.connect(self._nick_changed)
        c.convs.modelReset.connect(self._select_current)
        sel = self.sidebar.selectionModel()
        assert sel is not None
        sel.currentChanged.connect(self._sidebar_moved)
        self.message_view.wantOlder.connect(self._load_older)
        self.message_view.linkActivated.connect(
            lambda url: QDesktopServices.openUrl(QUrl.fromUserInput(url))
        )
        self.input.submitted.connect(c.submit)
        self.member_list.doubleClicked.connect(
            lambda i: c.open_direct(str(i.data(Qt.ItemDataRole.DisplayRole)))
        )
        self.session.stateChanged.connect(self._on_state)
        self.session.failed.connect(self._on_failed)
        self.session.certificateRejected.connect(self._on_certificate)

    def _shortcuts(self) -> None:
        def add(keys: str | QKeySequence.StandardKey, slot: object) -> QShortcut:
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)  # type: ignore[arg-type]
            return sc

        add("Ctrl+K", self.open_switcher)
        add("Ctrl+W", self.controller.close_conversation)
        add("Ctrl+Tab", lambda: self.cycle(1))
        add("Ctrl+Shift+Tab", lambda: self.cycle(-1))
        add("Ctrl+Backtab", lambda: self.cycle(-1))
        add("Ctrl+PgDown", lambda: self.cycle(1))
        add("Ctrl+PgUp", lambda: self.cycle(-1))
        for n in range(1, 10):
            add(f"Alt+{n}", lambda n=n: self.select_nth(n - 1))
        page_up = QShortcut(QKeySequence("PgUp"), self.input)
        page_up.setContext(Qt.ShortcutContext.WidgetShortcut)
        page_up.activated.connect(lambda: self._page(-1))
        page_down = QShortcut(QKeySequence("PgDown"), self.input)
        page_down.setContext(Qt.ShortcutContext.WidgetShortcut)
        page_down.activated.connect(lambda: self._page(1))

    def _menus(self) -> None:
        bar = self.menuBar()
        assert bar is not None
        chat = bar.addMenu("&Chinwag")
        assert chat is not None
        self.connect_action = QAction("&Connect…", self)
        self.connect_action.triggered.connect(lambda: self.show_connect_dialog())
        self.reconnect_action = QAction("&Reconnect now", self)
        self.reconnect_action.triggered.connect(self.session.reconnect_now)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        chat.addActions([self.connect_action, self.reconnect_action])
        chat.addSeparator()
        chat.addAction(quit_action)
        conv = bar.addMenu("C&onversation")
        assert conv is not None
        rooms = QAction("&Browse rooms…", self)
        rooms.setShortcut(QKeySequence("Ctrl+J"))
        rooms.triggered.connect(self.open_room_browser)
        direct = QAction("New &direct message…", self)
        direct.setShortcut(QKeySequence("Ctrl+N"))
        direct.triggered.connect(self.open_new_direct)
        switch = QAction("&Quick switcher…", self)
        switch.triggered.connect(self.open_switcher)
        leave = QAction("&Leave / close", self)
        leave.triggered.connect(self.controller.close_conversation)
        conv.addActions([rooms, direct, switch, leave])
        prefs = bar.addMenu("&Settings")
        assert prefs is not None
        self.notifications_action = QAction("Desktop &notifications for DMs and mentions", self)
        self.notifications_action.setObjectName("notificationsAction")
        self.notifications_action.setCheckable(True)
        self.notifications_action.setChecked(self.notifier.enabled)
        self.notifications_action.toggled.connect(self._set_notifications)
        prefs.addAction(self.notifications_action)
        helpm = bar.addMenu("&Help")
        assert helpm is not None
        cmds = QAction("&Commands", self)
        cmds.setShortcut(QKeySequence("F1"))
        cmds.triggered.connect(lambda: self.controller.submit("/help"))
        keys = QAction("&Keyboard shortcuts", self)
        keys.triggered.connect(self.show_shortcuts)
        helpm.addActions([cmds, keys])

    # ---- conversations --------------------------------------------------------

    def _show_conversation(self, conv: Conversation | None) -> None:
        shown = self._shown
        if shown is not None and shown is not conv:  # each conversation keeps its draft
            shown.draft = self.input.text()
        if shown is not conv:
            self.input.setText(conv.draft if conv is not None else "")
        self._shown = conv
        self.message_view.set_messages(conv.messages if conv is not None else None)
        self._conversation_updated(conv)
        self._select_current()
        name = conv.name if conv is not None else None
        self.setWindowTitle(f"{APP_NAME} — {name}" if name else APP_NAME)
        if not self.sidebar.hasFocus():  # arrow keys in the sidebar keep working
            self.input.setFocus()

    def _conversation_updated(self, conv: Conversation | None) -> None:
        if conv is not self.controller.current:
            return
        if conv is None:
            self.topic_bar.setText("<b>No conversation</b> — /join a room or press Ctrl+J")
            self.members.set_nicks([])
            self.members_header.setText("")
            return
        title = html.escape(conv.title)
        if conv.kind is ConvKind.ROOM:
            topic = html.escape(conv.topic) if conv.topic else "<i>no topic — /topic to set one</i>"
            state = "" if conv.joined else " <i>(not joined)</i>"
            self.topic_bar.setText(f"<b>{title}</b>{state} &nbsp;·&nbsp; {topic}")
            self.topic_bar.setToolTip(conv.topic)
            self.members.set_nicks(conv.members, conv.ops, conv.voiced)
            n = len(conv.members)
            self.members_header.setText(f"{n} {'person' if n == 1 else 'people'}")
            self.member_panel.show()
        else:
            self.topic_bar.setText(f"<b>{title}</b> &nbsp;·&nbsp; direct conversation")
            self.topic_bar.setToolTip("")
            self.members.set_nicks([])
            self.member_panel.hide()

    def _select_current(self) -> None:
        conv = self.controller.current
        sel = self.sidebar.selectionModel()
        if sel is None or sel.model() is None:  # the window is being torn down
            return
        idx = self.controller.convs.index_of(conv) if conv is not None else QModelIndex()
        if idx.isValid():
            if sel.currentIndex() != idx:
                sel.setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        else:
            sel.clearSelection()

    def _sidebar_moved(self, current: QModelIndex, _previous: QModelIndex) -> None:
        conv = current.data(ConversationModel.ConversationRole)
        if isinstance(conv, Conversation):
            self.controller.set_current(conv)

    def cycle(self, step: int) -> None:
        convs = self.controller.convs.conversations()
        if not convs:
            return
        cur = self.controller.current
        i = convs.index(cur) if cur in convs else -1
        self.controller.set_current(convs[(i + step) % len(convs)])

    def select_nth(self, n: int) -> None:
        convs = self.controller.convs.conversations()
        if 0 <= n < len(convs):
            self.controller.set_current(convs[n])

    def _load_older(self) -> None:
        conv = self.controller.current
        if conv is not None and self.session.connected and not conv.history_done:
            self.controller.spawn(self.controller.load_older(conv), conv)

    def _page(self, direction: int) -> None:
        bar = self.message_view.verticalScrollBar()
        if bar is not None:
            bar.setValue(bar.value() + direction * bar.pageStep())

    def _completion_nicks(self) -> list[str]:
        conv = self.controller.current
        nicks = list(conv.members) if conv is not None else []
        nicks += [c.name for c in self.controller.convs.directs()]
        me = self.controller.me
        return [n for n in nicks if me is None or n.casefold() != me.casefold()]

    def _nick_changed(self, nick: str) -> None:
        self.members.me = nick
        self.statusBar().showMessage(f"You are {nick}", 5000)  # type: ignore[union-attr]

    # ---- dialogs --------------------------------------------------------------

    def open_switcher(self) -> None:
        self.switcher = QuickSwitcher(self.controller.convs.conversations(), self)
        self.switcher.chosen.connect(self.controller.set_current)
        self.switcher.open()

    def open_room_browser(self) -> None:
        browser = self.room_browser = RoomBrowser(self)
        browser.chosen.connect(lambda name: self.controller.submit(f"/join {name}"))
        browser.open()

        async def fill() -> None:
            try:
                browser.set_rooms(await self.controller.list_rooms())
            except RequestFailed as exc:
                browser.show_error(f"Could not list rooms: {exc.message}")
            except (NotConnected, ConnectionLost):
                browser.show_error("Not connected — the list will be empty until reconnected.")

        self.controller.spawn(fill())

    def open_new_direct(self) -> None:
        dialog = QInputDialog(self)
        dialog.setObjectName("directDialog")
        dialog.setWindowTitle("New direct message")
        dialog.setLabelText("Nick to write to:")
        known = sorted(
            {m for c in self.controller.convs.rooms() for m in c.members}
            - {self.controller.me or ""},
            key=str.casefold,
        )
        dialog.setComboBoxItems(known)
        dialog.setComboBoxEditable(True)
        dialog.setTextValue("")
        dialog.textValueSelected.connect(
            lambda nick: self.controller.open_direct(nick) if nick.strip() else None
        )
        dialog.open()

    def show_connect_dialog(
        self, problem: str = "", profile: ConnectionProfile | None = None
    ) -> None:
        if self.connect_dialog is not None:
            self.connect_dialog.close()
        dialog = self.connect_dialog = ConnectDialog(profile or self.settings.profile(), self)
        dialog.show_problem(problem)
        dialog.accepted.connect(lambda: self.connect_to(dialog.profile()))
        dialog.open()

    def connect_to(self, profile: ConnectionProfile) -> None:
        self.settings.save_profile(profile)
        self._last_profile = profile
        self.session.start(
            Target(
                profile.host,
                profile.port,
                profile.nick,
                profile.password,
                profile.tls,
                register=profile.register,
            )
        )

    def show_shortcuts(self) -> None:
        for keys, what in SHORTCUTS:
            self.controller.info(f"{keys:<26} {what}")

    def _set_notifications(self, on: bool) -> None:
        self.notifier.enabled = on

    # ---- connection state -----------------------------------------------------

    def _on_state(self, state: ConnState, detail: str) -> None:
        colour = _STATE_COLOURS[state]
        self.state_label.setText(f"<span style='color:{colour}'>●</span> {state.value}")
        self.state_label.setToolTip(detail)
        status = self.statusBar()
        if status is not None:
            status.showMessage(detail)

    def _on_failed(self, code: str, message: str) -> None:
        self.controller.error(message)
        profile = self._last_profile or self.settings.profile()
        if code in ("bad_password", "nick_reserved", "account_required", "nick_locked"):
            profile = dataclasses.replace(profile, password="")
        self.show_connect_dialog(message, profile)
        if self.connect_dialog is not None and code in ("bad_password", "nick_reserved"):
            self.connect_dialog.password.setFocus()

    def _on_certificate(self, err: TLSTrustError) -> None:
        """Ask whether to trust (pin) the certificate; on yes, pin it and reconnect."""

        def trust(fingerprint: str) -> None:
            self.session.pins.pin(err.host, err.port, fingerprint)
            if self.connect_dialog is not None:
                self.connect_dialog.close()
            self.connect_to(self._last_profile or self.settings.profile())

        self.trust_dialog = certificate_dialog(self, err, trust)

    # ---- window events (kept trivial) -----------------------------------------

    def event(self, e: QEvent | None) -> bool:
        if e is not None and e.type() == QEvent.Type.WindowActivate:
            QTimer.singleShot(0, self._activated)
        return super().event(e)

    def _activated(self) -> None:
        self.input.setFocus()
        self.controller.mark_read(self.controller.current)

    def closeEvent(self, e: QCloseEvent | None) -> None:
        self.settings.save_geometry(self.saveGeometry())
        rooms = self.controller.open_rooms()
        if rooms:
            self.settings.save_rooms(rooms)
        self.notifier.close()
        self.closed.emit()
        super().closeEvent(e)


def line_texts(conv: Conversation, kinds: tuple[Kind, ...] = tuple(Kind)) -> list[str]:
    """The conversation's lines as plain text (for tests and debugging)."""
    return [r.plain() for r in conv.messages.rows() if r.kind in kinds]
