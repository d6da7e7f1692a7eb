namespace CaptionSidecar.Audio;

/// <summary>The kinds of audio input <c>--input</c> can name.</summary>
public enum AudioInputKind
{
    /// <summary><c>default</c>: the OS default capture device.</summary>
    Default,

    /// <summary><c>device:NAME</c>: a named capture device.</summary>
    Device,

    /// <summary><c>file:PATH</c>: a WAV file.</summary>
    File,

    /// <summary><c>stdin</c>: raw s16le on standard input.</summary>
    Stdin,

    /// <summary><c>cmd:COMMAND</c>: a process whose standard output is raw s16le.</summary>
    Command,

    /// <summary><c>process:NAME</c>: what one running program (and its child processes) plays; Windows 10 2004 or later.</summary>
    Process,
}

/// <summary>A parsed <c>--input</c> value.</summary>
/// <param name="Kind">What kind of input.</param>
/// <param name="Value">The device name, file path, command or program name; empty for <c>default</c> and <c>stdin</c>.</param>
public sealed record AudioInputSpec(AudioInputKind Kind, string Value)
{
    /// <summary>
    /// What is wrong with <paramref name="input"/> before anything is opened, as a sentence, or null when it may be
    /// tried: a value none of the kinds, a <c>file:</c> that is a folder or does not exist, or a <c>process:</c>
    /// anywhere but Windows. Relative paths are
    /// relative to the folder the command was run from; the message shows where that led.
    /// </summary>
    /// <param name="input">An <c>--input</c> value.</param>
    /// <param name="spec">The parsed value when there is no problem.</param>
    public static string? Problem(string? input, out AudioInputSpec? spec)
    {
        try
        {
            spec = Parse(input);
        }
        catch (FormatException ex)
        {
            spec = null;
            return ex.Message;
        }

        if (spec.Kind == AudioInputKind.Process && !OperatingSystem.IsWindows())
        {
            return $"'{spec}' captures one program's sound through Windows' per-process loopback (Windows 10 version 2004 or later); " +
                "there is none on this operating system. Capture a device (default, device:NAME; 'CaptionSidecar devices' lists them, monitors included).";
        }

        if (spec.Kind == AudioInputKind.File)
        {
            var full = Path.GetFullPath(spec.Value);
            if (Directory.Exists(full))
            {
                return $"'{full}' is a folder, not a WAV file: give the file itself, file:PATH.";
            }

            if (!File.Exists(full))
            {
                return $"the file '{full}' does not exist.";
            }
        }

        return null;
    }

    /// <summary>Parses <c>default</c>, <c>device:NAME</c>, <c>file:PATH</c>, <c>stdin</c>, <c>cmd:COMMAND</c> or <c>process:NAME</c>.</summary>
    /// <exception cref="FormatException">The value is none of those; the message lists what is accepted.</exception>
    public static AudioInputSpec Parse(string? input)
    {
        var text = input?.Trim() ?? string.Empty;
        if (text.Equals("default", StringComparison.OrdinalIgnoreCase))
        {
            return new(AudioInputKind.Default, string.Empty);
        }

        if (text.Equals("stdin", StringComparison.OrdinalIgnoreCase) || text == "-")
        {
            return new(AudioInputKind.Stdin, string.Empty);
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            var value = Unquote(text[(colon + 1)..].Trim());
            var kind = text[..colon].ToLowerInvariant() switch
            {
                "file" => AudioInputKind.File,
                "device" => AudioInputKind.Device,
                "cmd" => AudioInputKind.Command,
                "process" => AudioInputKind.Process,
                _ => (AudioInputKind?)null,
            };
            if (kind is { } k)
            {
                return value.Length > 0
                    ? new(k, value)
                    : throw new FormatException($"'{text}' names no {text[..colon]}: write {text[..colon]}:{Placeholder(k)}.");
            }
        }

        throw new FormatException(
            $"'{text}' is not an audio input. Use default, device:NAME, file:PATH (a WAV file), stdin (raw s16le), cmd:\"COMMAND\" (a process writing raw s16le) or process:NAME (what one program plays, Windows).");
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        AudioInputKind.Default => "default",
        AudioInputKind.Stdin => "stdin",
        AudioInputKind.File => $"file:{Value}",
        AudioInputKind.Device => $"device:{Value}",
        AudioInputKind.Process => $"process:{Value}",
        _ => $"cmd:{Value}",
    };

    private static string Unquote(string value) =>
        value.Length >= 2 && ((value[0] == '"' && value[^1] == '"') || (value[0] == '\'' && value[^1] == '\'')) ? value[1..^1] : value;

    private static string Placeholder(AudioInputKind kind) => kind switch
    {
        AudioInputKind.File => "PATH",
        AudioInputKind.Device or AudioInputKind.Process => "NAME",
        _ => "\"COMMAND\"",
    };
}
