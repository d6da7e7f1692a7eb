using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.Captions;

public sealed class ConsoleCaptionSinkTests
{
    private const string Erase = "\r\x1b[2K";
    private static readonly DateTimeOffset Wall = new(2026, 11, 25, 14, 30, 5, TimeSpan.Zero);

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_Redirected_PrintsOnlyOneLabelledLinePerFinalTurn()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = new StringWriter();
        var sink = new ConsoleCaptionSink(output, isTerminal: false);

        await sink.WriteAsync(Tentative("en", 1, "Hello wor"), ct);
        await sink.WriteAsync(Final("en", 2, "Hello world.", 3.24), ct);
        await sink.WriteAsync(Tentative("es", 1, "Hol"), ct);
        await sink.WriteAsync(Final("es", 2, "Hola\nmundo.", 3725.5), ct);
        await sink.WriteAsync(new CaptionUpdate("en", 3, CaptionUpdateKind.Cleared, [], [], Wall), ct);
        await sink.CloseLanguageAsync("en", ct);

        Assert.Equal("[en 00:00:03.2] Hello world.\n[es 01:02:05.5] Hola mundo.\n", output.ToString());
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_Terminal_RewritesTheTentativeLineThenReplacesItWithTheFinalLine()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = new StringWriter();
        var sink = new ConsoleCaptionSink(output, isTerminal: true);

        await sink.WriteAsync(Tentative("en", 1, "Hel"), ct);
        await sink.WriteAsync(Tentative("en", 2, "Hello wor"), ct);
        await sink.WriteAsync(Tentative("en", 3, "Hello wor"), ct); // unchanged: nothing redrawn
        await sink.WriteAsync(
            new CaptionUpdate("en", 4, CaptionUpdateKind.Text, [new CaptionLine("Hello world.", " Next")], [Item("en", "Hello world.", 3.2)], Wall),
            ct);
        await sink.WriteAsync(new CaptionUpdate("en", 5, CaptionUpdateKind.Cleared, [], [], Wall), ct);

        Assert.Equal(
            $"{Erase}[en ...] Hel{Erase}[en ...] Hello wor{Erase}[en 00:00:03.2] Hello world.\n[en ...] Next{Erase}",
            output.ToString());
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_TerminalNarrowerThanTheText_KeepsTheEndOfTheLiveLine()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = new StringWriter();
        var sink = new ConsoleCaptionSink(output, isTerminal: true, width: 30);

        await sink.WriteAsync(Tentative("en", 1, "one two three four five six seven eight"), ct);

        var live = output.ToString()[Erase.Length..];
        Assert.Equal(29, live.Length);
        Assert.StartsWith("[en ...] ...", live, StringComparison.Ordinal);
        Assert.EndsWith("six seven eight", live, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_TerminalWithWideCharacters_CutsByColumnsSoTheLineNeverWraps()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = new StringWriter();
        var sink = new ConsoleCaptionSink(output, isTerminal: true, width: 30);

        await sink.WriteAsync(Tentative("ja", 1, "これは字幕のサンプルです。位置とスタイルを調整してください。"), ct);

        var live = output.ToString()[Erase.Length..];
        Assert.InRange(ConsoleCaptionSink.Columns(live), 28, 29);
        Assert.EndsWith("してください。", live, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task CloseLanguageAsync_Terminal_ShowsTheOtherLanguagesLiveTextInstead()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = new StringWriter();
        var sink = new ConsoleCaptionSink(output, isTerminal: true);

        await sink.WriteAsync(Tentative("es", 1, "Hola"), ct);
        await sink.WriteAsync(Tentative("en", 1, "Hello"), ct);
        await sink.CloseLanguageAsync("en", ct);
        await sink.CloseLanguageAsync("es", ct);

        Assert.Equal($"{Erase}[es ...] Hola{Erase}[en ...] Hello{Erase}[es ...] Hola{Erase}", output.ToString());
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_NamedSpeakers_EachFinalLineLabelledAndTheLiveLineNamesEachChangeOfSpeaker()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = new SpeakerLabel("Alice", "#ff8800");
        var bob = new SpeakerLabel("Bob", "#00aaff");
        var output = new StringWriter();
        var sink = new ConsoleCaptionSink(output, isTerminal: true);

        await sink.WriteAsync(new CaptionUpdate("es", 1, CaptionUpdateKind.Text,
            [new CaptionLine("", "Hola", alice), new CaptionLine("", "y más", alice), new CaptionLine("", "Sí", bob)], [], Wall), ct);
        await sink.WriteAsync(new CaptionUpdate("es", 2, CaptionUpdateKind.Text,
            [new CaptionLine("Hola y más.", "", alice), new CaptionLine("Sí.", "", bob)],
            [Item("es", "Hola y más.", 1.5) with { Speaker = alice }, Item("es", "Sí.", 2) with { Speaker = bob }], Wall), ct);

        Assert.Equal(
            $"{Erase}[es ...] Alice: Hola y más Bob: Sí{Erase}[es 00:00:01.5] Alice: Hola y más.\n[es 00:00:02.0] Bob: Sí.\n",
            output.ToString());
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_RedirectedWithSpeakers_PrintsNameAfterTheTime()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = new StringWriter();
        var sink = new ConsoleCaptionSink(output, isTerminal: false);

        await sink.WriteAsync(Final("en", 1, "Hello world.", 3.24) with { Finalized = [Item("en", "Hello world.", 3.24) with { Speaker = new("Alice", "#ff8800") }] }, ct);
        await sink.WriteAsync(Final("en", 2, "Unnamed.", 4), ct);

        Assert.Equal("[en 00:00:03.2] Alice: Hello world.\n[en 00:00:04.0] Unnamed.\n", output.ToString());
    }

    private static CaptionItem Item(string language, string text, double start) =>
        new(language, 1, $"item_{language}", text, TimeSpan.FromSeconds(start), TimeSpan.FromSeconds(start + 2));

    private static CaptionUpdate Tentative(string language, long sequence, string text) =>
        new(language, sequence, CaptionUpdateKind.Text, [new CaptionLine("", text)], [], Wall);

    private static CaptionUpdate Final(string language, long sequence, string text, double start) =>
        new(language, sequence, CaptionUpdateKind.Text, [new CaptionLine(text, "")], [Item(language, text, start)], Wall);
}
