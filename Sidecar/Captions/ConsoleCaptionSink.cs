using System.Globalization;
using System.Text;

namespace CaptionSidecar.Captions;

/// <summary>
/// Prints captions on standard output, which carries nothing else (logs go to standard error), so scripts can
/// pipe them: one line <c>[en 00:00:03.2] text</c> per final turn, <c>[en 00:00:03.2] Name: text</c> for a named
/// speaker's. On a terminal the text that is not final yet is also shown live on the last line, rewritten in place
/// and replaced by the final line when it comes; a named speaker's label leads it at each change of speaker.
/// </summary>
internal sealed class ConsoleCaptionSink : ICaptionSink
{
    private const string EraseLine = "\r\x1b[2K";

    private readonly TextWriter _output;
    private readonly bool _isTerminal;
    private readonly int _width;
    private readonly Dictionary<string, string> _tentative = new(StringComparer.Ordinal);
    private string _shown = "";

    /// <summary>Writes to <see cref="Console.Out"/>; live text only when standard output is a terminal.</summary>
    public ConsoleCaptionSink()
        : this(Console.Out, !Console.IsOutputRedirected, TerminalWidth())
    {
    }

    /// <summary>Writes to <paramref name="output"/>.</summary>
    /// <param name="output">Where captions go.</param>
    /// <param name="isTerminal">Whether to show the live tentative line (escape codes) as well as the final lines.</param>
    /// <param name="width">Terminal columns: the live line is cut to fit so it never wraps (a wrapped line cannot be rewritten).</param>
    internal ConsoleCaptionSink(TextWriter output, bool isTerminal, int width = 80)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _isTerminal = isTerminal;
        _width = Math.Max(20, width);
    }

    public string Name => "console";

    public async ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        var text = new StringBuilder();
        foreach (var item in update.Finalized)
        {
            var line = FinalLine(item);
            if (line is not null)
            {
                text.Append(line).Append('\n');
            }
        }

        if (_isTerminal)
        {
            _tentative[update.Language] = update.Kind == CaptionUpdateKind.Cleared ? "" : TentativeText(update);
            var live = LiveLine(update.Language);
            if (text.Length > 0 || live != _shown)
            {
                // The final lines take the live line's place; the live line is drawn again below them.
                text.Insert(0, EraseLine).Append(live);
                _shown = live;
            }
        }

        if (text.Length > 0)
        {
            await _output.WriteAsync(text.ToString().AsMemory(), cancellationToken);
            await _output.FlushAsync(cancellationToken);
        }
    }

    public async ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken)
    {
        if (!_isTerminal || !_tentative.Remove(language))
        {
            return;
        }

        var live = LiveLine(language);
        if (live != _shown)
        {
            _shown = live;
            await _output.WriteAsync((EraseLine + live).AsMemory(), cancellationToken);
            await _output.FlushAsync(cancellationToken);
        }
    }

    /// <summary>The line printed for a final turn, or null when it has no text.</summary>
    internal static string? FinalLine(CaptionItem item)
    {
        var text = string.Join(' ', item.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return text.Length == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"[{item.Language} {SubtitleFormat.ConsoleTime(item.Start)}] {item.Speaker?.Prefix}{text}");
    }

    /// <summary>The text in progress of an update's lines; a speaker's label leads each change of speaker.</summary>
    internal static string TentativeText(CaptionUpdate update)
    {
        var text = new StringBuilder();
        SpeakerLabel? previous = null;
        foreach (var line in update.Lines)
        {
            var tentative = line.TentativeText.Trim();
            if (tentative.Length == 0)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(' ');
            }

            if (line.Speaker is { } speaker && (text.Length == 0 || !SubtitleFormat.SameSpeaker(previous, speaker)))
            {
                text.Append(speaker.Prefix);
            }

            text.Append(tentative);
            previous = line.Speaker;
        }

        return text.ToString();
    }

    /// <summary>The live line: this language's text in progress, else another language's, cut to the width.</summary>
    private string LiveLine(string language)
    {
        var (code, text) = _tentative.TryGetValue(language, out var own) && own.Length > 0
            ? (language, own)
            : _tentative.Where(t => t.Value.Length > 0).Select(t => (t.Key, t.Value)).FirstOrDefault();
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var label = $"[{code} ...] ";
        var room = _width - 1 - label.Length;
        if (Columns(text) <= room)
        {
            return label + text;
        }

        // The end of the text is what is being said now: keep it, and mark the cut.
        var runes = text.EnumerateRunes().ToList();
        var kept = 0;
        var used = 3;
        while (kept < runes.Count && used + Columns(runes[^(kept + 1)]) <= room)
        {
            used += Columns(runes[^(kept + 1)]);
            kept++;
        }

        return label + "..." + string.Concat(runes.Skip(runes.Count - kept));
    }

    /// <summary>Terminal columns <paramref name="text"/> takes: East Asian wide characters take two.</summary>
    internal static int Columns(string text) => text.EnumerateRunes().Sum(Columns);

    private static int Columns(Rune rune) => rune.Value switch
    {
        >= 0x1100 and <= 0x115F => 2, // Hangul Jamo
        >= 0x2E80 and <= 0xA4CF => 2, // CJK radicals, kana, CJK ideographs, Yi
        >= 0xAC00 and <= 0xD7A3 => 2, // Hangul syllables
        >= 0xF900 and <= 0xFAFF => 2, // CJK compatibility ideographs
        >= 0xFE30 and <= 0xFE4F => 2, // CJK compatibility forms
        >= 0xFF00 and <= 0xFF60 => 2, // full-width forms
        >= 0xFFE0 and <= 0xFFE6 => 2,
        >= 0x1F300 and <= 0x1FAFF => 2, // emoji
        >= 0x20000 and <= 0x3FFFD => 2, // CJK extensions
        _ => 1,
    };

    private static int TerminalWidth()
    {
        try
        {
            return Console.IsOutputRedirected ? 80 : Console.WindowWidth;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
