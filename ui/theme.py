"""The colour themes (dark by default, light on request) and the style sheet built from them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True, slots=True)
class Theme:
    """The named colours every widget and the message painter use."""

    name: str
    rail: str
    sidebar: str
    chat: str
    input: str
    hover: str
    selected: str
    text: str
    muted: str
    faint: str
    accent: str
    accent_text: str
    mention_bg: str
    mention_bar: str
    danger: str
    online: str
    code_bg: str
    border: str
    link: str
    chip: str
    chip_mine: str

    def q(self, attr: str) -> QColor:
        return QColor(getattr(self, attr))


DARK = Theme(
    name="dark", rail="#1e1f22", sidebar="#2b2d31", chat="#313338", input="#383a40", hover="#2e3035",
    selected="#404249", text="#dbdee1", muted="#949ba4", faint="#6d6f78", accent="#5865f2", accent_text="#ffffff",
    mention_bg="#3d3a2a", mention_bar="#f0b232", danger="#f23f43", online="#23a55a", code_bg="#2b2d31",
    border="#1f2023", link="#00a8fc", chip="#2b2d31", chip_mine="#373a6e",
)

LIGHT = Theme(
    name="light", rail="#e3e5e8", sidebar="#f2f3f5", chat="#ffffff", input="#ebedef", hover="#f5f6f7",
    selected="#d7d9dc", text="#313338", muted="#5c5e66", faint="#80848e", accent="#5865f2", accent_text="#ffffff",
    mention_bg="#fdf5e0", mention_bar="#f0b232", danger="#da373c", online="#23a55a", code_bg="#f2f3f5",
    border="#d4d7dc", link="#006ce7", chip="#f2f3f5", chip_mine="#e0e3ff",
)

THEMES = {"dark": DARK, "light": LIGHT}


def style_sheet(t: Theme) -> str:
    """The application style sheet for a theme."""
    return f"""
    QWidget {{ color: {t.text}; font-size: 10pt; }}
    QMainWindow, QDialog {{ background: {t.chat}; }}
    #Rail {{ background: {t.rail}; }}
    #Sidebar, #MemberPane {{ background: {t.sidebar}; }}
    #ThreadPane {{ background: {t.chat}; border-left: 1px solid {t.border}; }}
    #Chat {{ background: {t.chat}; }}
    #RoomHeader {{ background: {t.sidebar}; border-bottom: 1px solid {t.border}; padding: 0 8px; }}
    #ChatHeader {{ background: {t.chat}; border-bottom: 1px solid {t.border}; }}
    #HeaderTitle {{ font-weight: 700; font-size: 11pt; }}
    #HeaderTopic {{ color: {t.muted}; }}
    #Muted, #TypingLine, #ChannelIntro {{ color: {t.muted}; }}
    #ChannelIntro {{ font-size: 11pt; }}
    #SectionLabel {{ color: {t.muted}; font-size: 8pt; font-weight: 700; letter-spacing: 0.5px; }}
    #UserBar {{ background: {t.rail}; }}
    QListView, QListWidget, QTreeWidget {{ background: transparent; border: none; outline: 0; }}
    QListWidget::item, QTreeWidget::item {{ border-radius: 4px; padding: 4px 6px; margin: 1px 6px; color: {t.muted}; }}
    QListWidget::item:hover, QTreeWidget::item:hover {{ background: {t.hover}; color: {t.text}; }}
    QListWidget::item:selected, QTreeWidget::item:selected {{ background: {t.selected}; color: {t.text}; }}
    QTreeWidget::branch {{ background: transparent; }}
    #ComposerBox {{ background: {t.input}; border-radius: 8px; }}
    #ReplyBar {{ background: {t.sidebar}; border-top-left-radius: 8px; border-top-right-radius: 8px; color: {t.muted}; }}
    QPlainTextEdit, QLineEdit, QTextEdit, QComboBox, QSpinBox {{ background: {t.input}; border: none; border-radius: 6px;
        padding: 6px; selection-background-color: {t.accent}; }}
    #ComposerBox QPlainTextEdit {{ background: transparent; }}
    QPushButton {{ background: {t.selected}; border: none; border-radius: 4px; padding: 6px 14px; }}
    QPushButton:hover {{ background: {t.hover}; }}
    QPushButton#Primary {{ background: {t.accent}; color: {t.accent_text}; font-weight: 600; }}
    QPushButton#Danger {{ background: {t.danger}; color: white; }}
    QToolButton {{ background: transparent; border: none; border-radius: 4px; padding: 4px; color: {t.muted}; font-size: 12pt; }}
    QToolButton:hover {{ background: {t.hover}; color: {t.text}; }}
    QToolButton:checked {{ color: {t.text}; }}
    QToolButton::menu-indicator {{ image: none; width: 0; }}
    QMenu {{ background: {t.rail}; border: 1px solid {t.border}; padding: 4px; }}
    QMenu::item {{ padding: 6px 18px; border-radius: 3px; }}
    QMenu::item:selected {{ background: {t.accent}; color: white; }}
    QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
    QScrollBar::handle:vertical {{ background: {t.rail}; border-radius: 4px; min-height: 30px; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
    QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
    QProgressBar {{ background: {t.input}; border: none; border-radius: 4px; height: 8px; text-align: center; }}
    QProgressBar::chunk {{ background: {t.accent}; border-radius: 4px; }}
    QTabWidget::pane {{ border: none; }}
    QTabBar::tab {{ background: transparent; padding: 6px 12px; color: {t.muted}; }}
    QTabBar::tab:selected {{ color: {t.text}; border-bottom: 2px solid {t.accent}; }}
    #ShortcutsCard {{ background: {t.sidebar}; border: 1px solid {t.border}; border-radius: 10px; }}
    QToolTip {{ background: {t.rail}; color: {t.text}; border: 1px solid {t.border}; }}
    """


def apply_theme(app: QApplication, t: Theme) -> None:
    """Set the palette, base font and style sheet of the whole application."""
    app.setStyle("Fusion")
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, t.q("chat"))
    pal.setColor(QPalette.ColorRole.Base, t.q("input"))
    pal.setColor(QPalette.ColorRole.Text, t.q("text"))
    pal.setColor(QPalette.ColorRole.WindowText, t.q("text"))
    pal.setColor(QPalette.ColorRole.Button, t.q("selected"))
    pal.setColor(QPalette.ColorRole.ButtonText, t.q("text"))
    pal.setColor(QPalette.ColorRole.Highlight, t.q("accent"))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("white"))
    pal.setColor(QPalette.ColorRole.Link, t.q("link"))
    pal.setColor(QPalette.ColorRole.PlaceholderText, t.q("faint"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, t.q("rail"))
    pal.setColor(QPalette.ColorRole.ToolTipText, t.q("text"))
    app.setPalette(pal)
    font = QFont()
    font.setFamilies(["Inter", "Noto Sans", "DejaVu Sans", "Segoe UI", "Helvetica"])
    font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(style_sheet(t))
