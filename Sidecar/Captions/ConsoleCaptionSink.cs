using System.Globalization;
using System.Text;

namespace CaptionSidecar.Captions;

/// <summary>
/// Prints captions on standard output, which carries nothing else (logs go to standard error), so scripts can
/// pipe them: one line <c>[en 00:00:03.2] text</c> per final turn. On a terminal the text that is not final yet
/// is also shown live on the last line, rewritten in place and replaced by the final line when it comes.
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
        return text.Length == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"[{item.Language} {SubtitleFormat.ConsoleTime(item.Start)}] {text}");
    }

    private static string TentativeText(CaptionUpdate update) =>
        string.Join(' ', update.Lines.Select(l => l.TentativeText.Trim()).Where(t => t.Length > 0));

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

        var label = $"[{code} …] ";
        var room = _width - 1 - label.Length;
        // The end of the text is what is being said now; keep it.
        return label + (text.Length <= room ? text : "…" + text[^(room - 1)..]);
    }

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
