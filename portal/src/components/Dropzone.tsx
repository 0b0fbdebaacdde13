// A drop target for one file, with a "Browse for a file" button for those who prefer a picker.
import { useRef, useState } from "react";

export function Dropzone({
  onFile,
  accept = ".jsonl,.json,.txt",
  disabled,
  label = "Drag and drop a JSONL file here",
  testId,
  hint = "JSON Lines, UTF-8, one example a line, at least 10 examples; up to 512 MB.",
}: {
  onFile(f: File): void;
  accept?: string;
  disabled?: boolean;
  label?: string;
  testId?: string;
  hint?: string;
}) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  return (
    <div
      className={`dropzone${over ? " over" : ""}${disabled ? " disabled" : ""}`}
      data-testid={testId}
      onDragEnter={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = disabled ? "none" : "copy";
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const f = e.dataTransfer.files?.[0];
        if (f && !disabled) onFile(f);
      }}
    >
      <div className="dropzone-icon" aria-hidden>
        ⇪
      </div>
      <div>
        <strong>{label}</strong>
      </div>
      <div className="muted">or</div>
      <button type="button" onClick={() => input.current?.click()} disabled={disabled}>
        Browse for a file
      </button>
      <input
        ref={input}
        type="file"
        name="file"
        accept={accept}
        hidden
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = "";
          if (f) onFile(f);
        }}
      />
      <div className="field-hint">{hint}</div>
    </div>
  );
}
