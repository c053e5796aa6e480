"""The Voice part of Preferences: input/output device pickers, a live input level meter, "test my mic", push-to-talk."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QKeySequenceEdit, QLabel, QProgressBar, QWidget

from app.errors import HubbubError

from ..state.voice import VoiceState

LEVEL_FLOOR_DB = -60.0


class VoiceSettings(QGroupBox):
    """Devices, level meter, mic test and push-to-talk; with no sound device it says so and disables the pickers."""

    def __init__(self, voice: VoiceState, ptt_enabled: bool, ptt_key: str, parent: QWidget | None = None) -> None:
        super().__init__("Voice", parent)
        self.voice = voice
        form = QFormLayout(self)
        self.input = QComboBox(self)
        self.output = QComboBox(self)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setObjectName("VoiceProblem")
        self.level = QProgressBar(self)
        self.level.setRange(0, 100)
        self.level.setTextVisible(False)
        self.level.setFixedHeight(8)
        self.mic_test = QCheckBox("Test my mic (hear yourself)", self)
        self.mic_test.toggled.connect(self._mic_test)
        self.ptt = QCheckBox("Push to talk", self)
        self.ptt.setChecked(ptt_enabled)
        self.ptt_key = QKeySequenceEdit(QKeySequence(ptt_key), self)
        form.addRow("Microphone", self.input)
        form.addRow("Speakers", self.output)
        form.addRow(self.problem)
        form.addRow("Input level", self.level)
        form.addRow(self.mic_test)
        form.addRow(self.ptt, self.ptt_key)
        self._fill()
        self._meter = QTimer(self)
        self._meter.setInterval(50)
        self._meter.timeout.connect(self._show_level)
        self._meter.start()

    def _fill(self) -> None:
        devices = self.voice.devices()
        self.input.addItem("System default", None)
        self.output.addItem("System default", None)
        for index, name in devices.inputs:
            self.input.addItem(name, index)
        for index, name in devices.outputs:
            self.output.addItem(name, index)
        service = self.voice.service
        if service is not None:
            for combo, current in ((self.input, service.input_device), (self.output, service.output_device)):
                pos = combo.findData(current)
                if pos >= 0:
                    combo.setCurrentIndex(pos)
            self.mic_test.blockSignals(True)
            self.mic_test.setChecked(service.mic_test)
            self.mic_test.blockSignals(False)
        self.problem.setText(devices.problem)
        self.problem.setVisible(bool(devices.problem))
        if devices.problem:
            for w in (self.input, self.output, self.mic_test):
                w.setEnabled(False)

    def _mic_test(self, on: bool) -> None:
        try:
            self.voice.set_mic_test(on)
        except HubbubError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            self.mic_test.blockSignals(True)
            self.mic_test.setChecked(False)
            self.mic_test.blockSignals(False)

    def _show_level(self) -> None:
        db = self.voice.level_db()
        value = 0 if db is None else int(max(0.0, min(1.0, (db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB)) * 100)
        self.level.setValue(value)

    def apply(self) -> None:
        """Use the chosen devices (raises HubbubError with a sentence when they cannot be opened)."""
        if self.input.isEnabled() and self.voice.service is not None:
            self.voice.set_devices(self.input.currentData(), self.output.currentData())

    def done(self) -> None:
        """The dialog closed: stop the meter and any mic test."""
        self._meter.stop()
        if self.mic_test.isChecked():
            self._mic_test(False)

    def key(self) -> str:
        return self.ptt_key.keySequence().toString() or "F8"
