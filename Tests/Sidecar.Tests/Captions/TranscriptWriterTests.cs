using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Captions;

public sealed class TranscriptWriterTests : IDisposable
{
    private const string Prefix = "20261125-143005";
    private static readonly DateTimeOffset Wall = new(2026, 11, 25, 14, 30, 5, TimeSpan.Zero);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "captionsidecar-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(Wall);

    public TranscriptWriterTests() => _time.SetLocalTimeZone(TimeZoneInfo.Utc);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_TwoLanguages_WritesSrtVttAndJsonlWithExactContent()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var writer = Writer(maxCharactersPerLine: 20))
        {
            await writer.WriteAsync(Final(Item("en", 1, "Hello & welcome to the <test> stream.", 1.2, 3.4)), ct);
            await writer.WriteAsync(Final(Item("es", 1, "Hola.", 1.3, 1.5)), ct);
            await writer.WriteAsync(Final(Item("en", 2, "Bye.", 4, 4.75)), ct);
            await writer.CloseLanguageAsync("en", ct);
            await writer.CloseLanguageAsync("es", ct);
        }

        Assert.Equal(
            "1\n00:00:01,200 --> 00:00:03,400\nHello & welcome to\nthe <test> stream.\n\n2\n00:00:04,000 --> 00:00:04,750\nBye.\n\n",
            Read($"{Prefix}-en.srt"));
        Assert.Equal(
            "WEBVTT\n\n00:00:01.200 --> 00:00:03.400\nHello &amp; welcome to\nthe &lt;test&gt; stream.\n\n00:00:04.000 --> 00:00:04.750\nBye.\n\n",
            Read($"{Prefix}-en.vtt"));
        // The half-second cue is stretched to the minimum duration.
        Assert.Equal("1\n00:00:01,300 --> 00:00:01,800\nHola.\n\n", Read($"{Prefix}-es.srt"));
        Assert.Equal("WEBVTT\n\n00:00:01.300 --> 00:00:01.800\nHola.\n\n", Read($"{Prefix}-es.vtt"));

        var lines = Read($"{Prefix}-en.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var root = first.RootElement;
        Assert.Equal(1, root.GetProperty("index").GetInt32());
        Assert.Equal("en", root.GetProperty("lang").GetString());
        Assert.Equal("item_en_1", root.GetProperty("item_id").GetString());
        Assert.Equal(1200, root.GetProperty("start_ms").GetInt64());
        Assert.Equal(3400, root.GetProperty("end_ms").GetInt64());
        Assert.Equal("Hello & welcome to the <test> stream.", root.GetProperty("text").GetString());
        Assert.Equal(Wall, root.GetProperty("wall_time").GetDateTimeOffset());
        Assert.Single(Read($"{Prefix}-es.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.ReadAllBytes(Path.Combine(_dir, $"{Prefix}-en.vtt")).AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }), "UTF-8 without BOM");
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_EachItem_FilesHoldItCompletelyBeforeClosing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var writer = Writer();
        var sentences = new[] { "First line.", "Second \"quoted\" line.", "日本語の字幕です。" };
        for (var i = 0; i < sentences.Length; i++)
        {
            await writer.WriteAsync(Final(Item("en", i + 1, sentences[i], 2 * i, (2 * i) + 1.5)), ct);

            var srt = Read($"{Prefix}-en.srt");
            Assert.EndsWith($"{sentences[i]}\n\n", srt, StringComparison.Ordinal);
            Assert.Equal(i + 1, srt.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.EndsWith($"{sentences[i]}\n\n", Read($"{Prefix}-en.vtt"), StringComparison.Ordinal);
            var json = Read($"{Prefix}-en.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(i + 1, json.Length);
            using var last = JsonDocument.Parse(json[^1]);
            Assert.Equal(sentences[i], last.RootElement.GetProperty("text").GetString());
        }

        Assert.Contains("日本語の字幕です。", Read($"{Prefix}-en.jsonl"), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_OnlyTentativeOrClearedUpdates_CreatesNoFiles()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var writer = Writer();

        await writer.WriteAsync(new CaptionUpdate("en", 1, CaptionUpdateKind.Text, [new CaptionLine("", "Hel")], [], Wall), ct);
        await writer.WriteAsync(new CaptionUpdate("en", 2, CaptionUpdateKind.Cleared, [], [], Wall), ct);
        await writer.CloseLanguageAsync("en", ct);

        Assert.False(Directory.Exists(_dir) && Directory.EnumerateFileSystemEntries(_dir).Any());
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_RestartIntoTheSameFolder_StartsNewFilesAndKeepsTheOldOnes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var first = Writer())
        {
            await first.WriteAsync(Final(Item("en", 1, "Before the restart.", 1, 2)), ct);
        }

        // A restart within the same second: the name is taken, so the new run gets a suffix.
        await using (var sameSecond = Writer())
        {
            await sameSecond.WriteAsync(Final(Item("en", 1, "Same second.", 1, 2)), ct);
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        await using (var later = Writer())
        {
            await later.WriteAsync(Final(Item("en", 1, "Two minutes later.", 1, 2)), ct);
        }

        Assert.Contains("Before the restart.", Read($"{Prefix}-en.srt"), StringComparison.Ordinal);
        Assert.Contains("Same second.", Read($"{Prefix}-2-en.srt"), StringComparison.Ordinal);
        Assert.Contains("Two minutes later.", Read("20261125-143205-en.srt"), StringComparison.Ordinal);
        Assert.Equal(9, Directory.GetFiles(_dir).Length);
        Assert.Equal(3, Directory.GetFiles(_dir, "*-en.srt").Length);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_FolderCannotBeCreated_ThrowsNamingTheFolderEachTry()
    {
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(_dir);
        var blocker = Path.Combine(_dir, "a-file");
        await File.WriteAllTextAsync(blocker, "not a folder", ct);
        var badDir = Path.Combine(blocker, "transcripts");
        await using var writer = Writer(directory: badDir);

        var ex = await Assert.ThrowsAsync<IOException>(async () => await writer.WriteAsync(Final(Item("en", 1, "Lost.", 1, 2)), ct));
        Assert.Contains(badDir, ex.Message, StringComparison.Ordinal);
        Assert.Contains("--transcript-dir", ex.Message, StringComparison.Ordinal);

        // Every try fails the same way (the dispatcher retries with backoff), and closing still works.
        await Assert.ThrowsAsync<IOException>(async () => await writer.WriteAsync(Final(Item("en", 1, "Lost.", 1, 2)), ct));
        await writer.CloseLanguageAsync("en", ct);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_AFolderHasTheTranscriptsName_TakesTheNextFreeName()
    {
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(Path.Combine(_dir, $"{Prefix}-en.srt", "in-the-way"));
        await using var writer = Writer();

        await writer.WriteAsync(Final(Item("en", 1, "Kept.", 1, 2)), ct);
        await writer.WriteAsync(Final(Item("es", 1, "Hola.", 1, 2)), ct);

        Assert.Contains("Kept.", Read($"{Prefix}-2-en.srt"), StringComparison.Ordinal);
        Assert.Contains("Hola.", Read($"{Prefix}-es.srt"), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task CloseLanguageAsync_LanguageTurnedOnAgain_ContinuesInNewFilesWithoutTouchingTheClosedOnes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var writer = Writer();
        await writer.WriteAsync(Final(Item("en", 1, "Before.", 1, 2)), ct);
        await writer.WriteAsync(Final(Item("en", 2, "  \n ", 2, 3)), ct); // nothing said: no empty cue
        await writer.CloseLanguageAsync("en", ct);

        // Closed: the file can now be opened for writing elsewhere, and the writer starts afresh.
        await using (new FileStream(Path.Combine(_dir, $"{Prefix}-en.srt"), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
        }

        await writer.WriteAsync(Final(Item("en", 3, "After.", 5, 6)), ct);

        Assert.Equal("1\n00:00:01,000 --> 00:00:02,000\nBefore.\n\n", Read($"{Prefix}-en.srt"));
        Assert.Equal("1\n00:00:05,000 --> 00:00:06,000\nAfter.\n\n", Read($"{Prefix}-2-en.srt"));
        Assert.Single(Read($"{Prefix}-en.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("false", new[] { "console", "transcripts", "youtube" })]
    [InlineData("true", new[] { "console", "transcripts", "obs", "youtube" })]
    public async Task AddCaptionOutputs_WithATranscriptFolder_ResolvesTheConsoleTranscriptAndObsSinks(string obsEnabled, string[] expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Captions:TranscriptDirectory"] = _dir, ["Obs:Enabled"] = obsEnabled })
            .Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton(new DataFolders(_dir))
            .AddSidecarOptions(configuration)
            .AddCaptionOutputs(configuration);
        await using var provider = services.BuildServiceProvider();

        var sinks = provider.GetServices<ICaptionSink>().ToList();

        Assert.Equal(expected, sinks.Select(s => s.Name));
        Assert.IsType<ConsoleCaptionSink>(sinks[0]);
        Assert.IsType<TranscriptWriter>(sinks[1]);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_TwoSpeakers_EveryCueLabelledInSrtVttAndJsonl()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = new SpeakerLabel("Alice", "#ff8800");
        var bob = new SpeakerLabel("Bob <&> Jr", "#00aaff");
        await using (var writer = Writer(maxCharactersPerLine: 20))
        {
            await writer.WriteAsync(Final(Item("en", 1, "Hello & welcome to the <test> stream.", 1.2, 3.4) with { Speaker = alice }), ct);
            await writer.WriteAsync(Final(Item("en", 2, "Yes.", 3.5, 4.5) with { Speaker = bob }), ct);
            await writer.WriteAsync(Final(Item("en", 3, "Bye.", 5, 6) with { Speaker = alice }), ct);
        }

        Assert.Equal(
            "1\n00:00:01,200 --> 00:00:03,400\nAlice: Hello &\nwelcome to the\n<test> stream.\n\n"
            + "2\n00:00:03,500 --> 00:00:04,500\nBob <&> Jr: Yes.\n\n"
            + "3\n00:00:05,000 --> 00:00:06,000\nAlice: Bye.\n\n",
            Read($"{Prefix}-en.srt"));
        // The voice annotation is escaped too: its '>' cannot end the tag.
        Assert.Equal(
            "WEBVTT\n\n00:00:01.200 --> 00:00:03.400\n<v Alice>Hello &amp; welcome to\nthe &lt;test&gt; stream.</v>\n\n"
            + "00:00:03.500 --> 00:00:04.500\n<v Bob &lt;&amp;&gt; Jr>Yes.</v>\n\n"
            + "00:00:05.000 --> 00:00:06.000\n<v Alice>Bye.</v>\n\n",
            Read($"{Prefix}-en.vtt"));
        var speakers = Read($"{Prefix}-en.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("speaker").GetString());
        Assert.Equal(["Alice", "Bob <&> Jr", "Alice"], speakers);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_NoSpeaker_JsonlLineHasNoSpeakerFieldAndLabelledLineEndsWithIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var writer = Writer())
        {
            await writer.WriteAsync(Final(Item("en", 1, "Plain \"line\".", 1.2, 3.4)), ct);
            await writer.WriteAsync(Final(Item("en", 2, "Named.", 4, 5) with { Speaker = new SpeakerLabel("Zoë", "#112233") }), ct);
        }

        // Byte for byte the line written before speakers existed; a named speaker adds one field at the end.
        Assert.Equal(
            "{\"index\":1,\"lang\":\"en\",\"item_id\":\"item_en_1\",\"start_ms\":1200,\"end_ms\":3400,\"text\":\"Plain \\\"line\\\".\",\"wall_time\":\"2026-11-25T14:30:05+00:00\"}\n"
            + "{\"index\":2,\"lang\":\"en\",\"item_id\":\"item_en_2\",\"start_ms\":4000,\"end_ms\":5000,\"text\":\"Named.\",\"wall_time\":\"2026-11-25T14:30:05+00:00\",\"speaker\":\"Zoë\"}\n",
            Read($"{Prefix}-en.jsonl"));
        Assert.Equal("1\n00:00:01,200 --> 00:00:03,400\nPlain \"line\".\n\n2\n00:00:04,000 --> 00:00:05,000\nZoë: Named.\n\n", Read($"{Prefix}-en.srt"));
    }

    private TranscriptWriter Writer(int maxCharactersPerLine = 42, string? directory = null) =>
        new(Options.Create(new CaptionOptions { TranscriptDirectory = directory ?? _dir, MaxCharactersPerLine = maxCharactersPerLine }), _time, NullLogger<TranscriptWriter>.Instance);

    private static CaptionItem Item(string language, int index, string text, double start, double end) =>
        new(language, index, $"item_{language}_{index}", text, TimeSpan.FromSeconds(start), TimeSpan.FromSeconds(end));

    private static CaptionUpdate Final(CaptionItem item) =>
        new(item.Language, item.Index, CaptionUpdateKind.Text, [new CaptionLine(item.Text, "")], [item], Wall);

    /// <summary>Reads a transcript the way a viewer would while the sidecar still has it open.</summary>
    private string Read(string name)
    {
        using var stream = new FileStream(Path.Combine(_dir, name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
