using CaptionSidecar.Captions;
using CaptionSidecar.Retries;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Captions;

/// <summary>Transcripts when the disk fills up and frees again: through the dispatcher, on a fake clock.</summary>
public sealed class TranscriptFailureTests
{
    private static readonly DateTimeOffset Wall = new(2026, 11, 25, 14, 30, 5, TimeSpan.Zero);
    private readonly TimerSignallingTimeProvider _time = new();
    private readonly FailingTranscriptStorage _disk = new();
    private readonly ListLogger<CaptionDispatcher> _logger = new();

    public TranscriptFailureTests()
    {
        _time.SetUtcNow(Wall);
        _time.SetLocalTimeZone(TimeZoneInfo.Utc);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_DiskFullThenFreed_RetriesAndResumesWithEveryLineInOrderAndNoPartialCue()
    {
        var ct = TestContext.Current.CancellationToken;
        var writer = Writer();
        using var dispatcher = new CaptionDispatcher([writer], _logger, _time);
        await dispatcher.StartAsync(ct);

        dispatcher.Publish(Final(1, "Before the disk filled."));
        await Poll.UntilAsync(() => dispatcher.SinkStats[0].Delivered == 1, "the first line is written", ct);

        _disk.Full = true;
        for (var i = 2; i <= 6; i++)
        {
            dispatcher.Publish(Final(i, $"Line {i} while full."));
        }

        // The first failing line waits for its retry; the others wait behind it, and status says why.
        var firstWait = await _time.NextTimerAsync(ct);
        Assert.InRange(firstWait, TimeSpan.Zero, BackoffSettings.Disk.MaxDelay);
        Assert.Contains(dispatcher.Problems, p => p.StartsWith("Output transcripts:", StringComparison.Ordinal) && p.Contains("No space left", StringComparison.Ordinal));
        Assert.Equal(5, dispatcher.SinkStats[0].Queued + 1);

        // Still full at the second try: it waits again.
        _time.Advance(firstWait);
        var secondWait = await _time.NextTimerAsync(ct);
        Assert.True(_disk.FailedWrites >= 1 || dispatcher.SinkStats[0].Failed >= 2);

        _disk.Full = false;
        _time.Advance(secondWait);
        await Poll.UntilAsync(() => dispatcher.SinkStats[0].Delivered == 6, "every line is written", ct);
        await dispatcher.StopAsync(ct);
        await writer.DisposeAsync();

        var srt = _disk.Read("-en.srt");
        var cues = SrtCues(srt);
        Assert.Equal(["Before the disk filled.", .. Enumerable.Range(2, 5).Select(i => $"Line {i} while full.")], cues.Select(c => c.Text));
        Assert.Equal(Enumerable.Range(1, 6), cues.Select(c => c.Number));
        Assert.Equal(7, _disk.Read("-en.vtt").Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(6, _disk.Read("-en.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Empty(dispatcher.Problems);
        Assert.Equal(0, dispatcher.FinalLinesLost);
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_SecondItemOfAnUpdateFails_RetryWritesItOnceAndTheFirstNotAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var writer = Writer();
        var update = new CaptionUpdate("en", 1, CaptionUpdateKind.Text, [], [Item(1, "One."), Item(2, "Two.")], Wall);

        // The disk fills after the first item's three files are written (each item writes three times).
        var ex = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await writer.WriteAsync(new CaptionUpdate("en", 1, CaptionUpdateKind.Text, [], [Item(1, "One.")], Wall), ct);
            _disk.Full = true;
            await writer.WriteAsync(update, ct);
        });
        Assert.Contains("retried", ex.Message, StringComparison.Ordinal);

        _disk.Full = false;
        await writer.WriteAsync(update, ct);

        Assert.Equal(["One.", "Two."], SrtCues(_disk.Read("-en.srt")).Select(c => c.Text));
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_LabelledCueCutOffByAFullDisk_ReopenedAtTheLastWholeCueAndWrittenOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var writer = Writer();
        var alice = new SpeakerLabel("Alice", "#ff8800");
        var bob = new SpeakerLabel("Bob", "#00aaff");
        await writer.WriteAsync(new CaptionUpdate("en", 1, CaptionUpdateKind.Text, [], [Item(1, "One.") with { Speaker = alice }], Wall), ct);
        var update = new CaptionUpdate("en", 2, CaptionUpdateKind.Text, [], [Item(2, "Two.") with { Speaker = bob }, Item(3, "Three.") with { Speaker = alice }], Wall);

        // The full disk keeps half of each write: the labelled cue is cut in the middle.
        _disk.Full = true;
        await Assert.ThrowsAsync<IOException>(async () => await writer.WriteAsync(update, ct));
        _disk.Full = false;
        await writer.WriteAsync(update, ct);

        Assert.Equal([(1, "Alice: One."), (2, "Bob: Two."), (3, "Alice: Three.")], SrtCues(_disk.Read("-en.srt")).Select(c => (c.Number, c.Text)));
        Assert.Equal(
            "WEBVTT\n\n00:00:01.000 --> 00:00:01.800\n<v Alice>One.</v>\n\n00:00:02.000 --> 00:00:02.800\n<v Bob>Two.</v>\n\n"
            + "00:00:03.000 --> 00:00:03.800\n<v Alice>Three.</v>\n\n",
            _disk.Read("-en.vtt"));
        Assert.Equal(["Alice", "Bob", "Alice"], _disk.Read("-en.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("speaker").GetString()));
    }

    [Fact(Timeout = 30000)]
    public async Task StopAsync_DiskStillFull_EachLineTriedOnceMoreThenCountedAsLost()
    {
        var ct = TestContext.Current.CancellationToken;
        var writer = Writer();
        using var dispatcher = new CaptionDispatcher([writer], _logger, _time);
        await dispatcher.StartAsync(ct);
        _disk.Full = true;
        for (var i = 1; i <= 3; i++)
        {
            dispatcher.Publish(Final(i, $"Line {i}."));
        }

        await _time.NextTimerAsync(ct);
        await dispatcher.StopAsync(ct);
        await writer.DisposeAsync();

        Assert.Equal(3, dispatcher.FinalLinesLost);
        Assert.Contains(dispatcher.Problems, p => p == "Output transcripts: 3 final lines lost");
        Assert.Contains(_logger.Entries, e => e.Message == "3 final caption lines were not recorded by output transcripts");
        Assert.Empty(_disk.Names);
    }

    [Fact(Timeout = 30000)]
    public async Task ConsoleSink_StdoutFailsThenWorks_EveryFinalLinePrintedOnceInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var stdout = new FailingWriter();
        using var dispatcher = new CaptionDispatcher([new ConsoleCaptionSink(stdout, isTerminal: false)], _logger, _time);
        await dispatcher.StartAsync(ct);

        stdout.Failing = true;
        dispatcher.Publish(Final(1, "One."));
        dispatcher.Publish(Final(2, "Two."));
        var wait = await _time.NextTimerAsync(ct);
        Assert.Contains(dispatcher.Problems, p => p.StartsWith("Output console: No space left on device", StringComparison.Ordinal));

        stdout.Failing = false;
        _time.Advance(wait);
        await Poll.UntilAsync(() => dispatcher.SinkStats[0].Delivered == 2, "both lines are printed", ct);
        await dispatcher.StopAsync(ct);

        Assert.Equal("[en 00:00:01.0] One.\n[en 00:00:02.0] Two.\n", stdout.ToString());
        Assert.Equal(0, dispatcher.FinalLinesLost);
    }

    /// <summary>Standard output on a full disk: writes fail (nothing reaches the file) until it has room again.</summary>
    private sealed class FailingWriter : StringWriter
    {
        public bool Failing { get; set; }

        public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) =>
            Failing ? Task.FromException(new IOException("No space left on device")) : base.WriteAsync(buffer, cancellationToken);
    }

    private TranscriptWriter Writer() =>
        new(Options.Create(new CaptionOptions { TranscriptDirectory = "/transcripts" }), _time, NullLogger<TranscriptWriter>.Instance, _disk);

    private static CaptionItem Item(int index, string text) =>
        new("en", index, $"item_{index}", text, TimeSpan.FromSeconds(index), TimeSpan.FromSeconds(index + 0.8));

    private static CaptionUpdate Final(int index, string text) =>
        new("en", index, CaptionUpdateKind.Text, [new CaptionLine(text, "")], [Item(index, text)], Wall);

    /// <summary>Parses an SRT file strictly: every block a whole cue (number, times, text).</summary>
    internal static IReadOnlyList<(int Number, TimeSpan Start, string Text)> SrtCues(string srt)
    {
        Assert.EndsWith("\n\n", srt, StringComparison.Ordinal);
        var cues = new List<(int, TimeSpan, string)>();
        foreach (var block in srt.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            Assert.True(lines.Length >= 3, $"partial cue: '{block}'");
            var times = lines[1].Split(" --> ");
            Assert.Equal(2, times.Length);
            var start = TimeSpan.ParseExact(times[0], @"hh\:mm\:ss\,fff", null);
            cues.Add((int.Parse(lines[0], null), start, string.Join(' ', lines[2..])));
        }

        return cues;
    }
}
