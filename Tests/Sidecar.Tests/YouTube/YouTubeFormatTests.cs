using CaptionSidecar.Captions;
using CaptionSidecar.YouTube;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.YouTube;

public sealed class YouTubeFormatTests
{
    private const string Secret = "http://upload.youtube.com/closedcaption?cid=abcd-1234-efgh&id=S1&ns=yt-live&sparams=id%2Cns%2Cexpire&expire=1764700000&signature=ABCDEF.123456&key=yt_qc";

    [Fact]
    public void IngestionUrl_ShowsOnlyItsHost_AndAddsSeq()
    {
        Assert.True(YouTubeIngestionUrl.TryParse(Secret, out var url, out _));

        Assert.Equal("http://upload.youtube.com/…", url.Display);
        Assert.Equal(url.Display, url.ToString());
        Assert.DoesNotContain("signature", $"{url}", StringComparison.Ordinal);
        Assert.Equal(Secret + "&seq=7", url.WithSeq(7).OriginalString);
    }

    [Fact]
    public void IngestionUrl_WithASeqOfItsOwn_ReplacesIt()
    {
        Assert.True(YouTubeIngestionUrl.TryParse("https://h.example/cc?cid=x&seq=41&key=yt_qc", out var url, out _));

        Assert.Equal("https://h.example/cc?cid=x&key=yt_qc&seq=1", url.WithSeq(1).OriginalString);
    }

    [Theory]
    [InlineData("", "no ingestion URL")]
    [InlineData("rtmp://a.rtmp.youtube.com/live2/key", "http:// or https://")]
    [InlineData("http://upload.youtube.com/closedcaption", "has no query")]
    [InlineData("upload.youtube.com/closedcaption?cid=x", "http:// or https://")]
    public void IngestionUrl_Invalid_SaysWhatToFix(string text, string expected)
    {
        Assert.False(YouTubeIngestionUrl.TryParse(text, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.True(text.Length == 0 || !problem.Contains(text, StringComparison.Ordinal), "the problem never repeats the URL");
    }

    [Fact]
    public void Body_TimesInUtcWithMilliseconds_LineBreaksAsBr()
    {
        var at = new DateTimeOffset(2026, 12, 3, 16, 30, 5, 123, TimeSpan.FromHours(1));

        var body = YouTubeDocument.Body([new YouTubeLine(at, at, "Hola,\nqué tal?"), new YouTubeLine(at, at.AddMilliseconds(7), " Ünïcødé ")]);

        Assert.Equal("2026-12-03T15:30:05.123\nHola,<br>qué tal?\n2026-12-03T15:30:05.130\nÜnïcødé\n", body);
    }

    [Fact]
    public void Settings_FromOptions_WinOverTheSavedOnes()
    {
        var store = new MemoryStore { Saved = new SavedYouTubeSettings(1, "https://saved.example/cc?cid=s", false, "fr", 9) };

        var settings = YouTubeSettings.Resolve(new YouTubeOptions { Url = Secret, OffsetSeconds = 2.5 }, "en", store);

        Assert.Equal("upload.youtube.com", settings.Url?.Host);
        Assert.True(settings.Enabled);
        Assert.Equal("en", settings.Language);
        Assert.Equal(2.5, settings.OffsetSeconds);
    }

    [Fact]
    public void Settings_WithoutAUrlInOptions_AreTheSavedOnes()
    {
        var store = new MemoryStore { Saved = new SavedYouTubeSettings(1, "https://saved.example/cc?cid=s", false, "fr", 9) };

        var settings = YouTubeSettings.Resolve(new YouTubeOptions(), "en", store);

        Assert.Equal("saved.example", settings.Url?.Host);
        Assert.False(settings.Enabled);
        Assert.Equal("fr", settings.Language);
        Assert.Equal(9, settings.OffsetSeconds);
    }

    [Theory]
    [InlineData(null, "xx yy", null, "language code")]
    [InlineData("ftp://x/y?z", null, null, "http:// or https://")]
    [InlineData(null, null, 4000d, "between -3600 and 3600")]
    public void Settings_InvalidChange_SaysWhatToFix(string? url, string? language, double? offset, string expected)
    {
        var settings = YouTubeSettings.Resolve(new YouTubeOptions(), "en", new MemoryStore());

        var e = Assert.Throws<ArgumentException>(() => settings.With(new YouTubeSettingsChange(Url: url, Language: language, OffsetSeconds: offset)));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_Problems_NameTheKeyAndTheFix()
    {
        var problems = YouTubeSettings.Problems(new YouTubeOptions { Url = "http://x.example/cc", Language = "english", MaxAgeSeconds = 0 });

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("Outputs:YouTube:Url (--youtube-captions)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Outputs:YouTube:Language (--youtube-language)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Outputs:YouTube:MaxAgeSeconds", StringComparison.Ordinal));
    }

    [Fact]
    public void SinkLines_TimedAtTheTurnsStartOnTheTimelinePlusTheOffset_SpeakerFirst()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 15, 0, 0, TimeSpan.Zero));
        var timeline = new AudioTimeline(time);
        time.Advance(TimeSpan.FromSeconds(10));
        timeline.AudioArrived(TimeSpan.FromSeconds(0.1)); // zero: 15:00:09.900
        time.Advance(TimeSpan.FromSeconds(50));
        timeline.AudioArrived(TimeSpan.FromSeconds(50)); // later chunks move nothing

        var lines = YouTubeCaptionSink.Lines(
            [
                new CaptionItem("en", 1, "i1", "  Hello there. ", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)),
                new CaptionItem("en", 2, "i2", " ", TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4)),
                new CaptionItem("en", 3, "i3", "Hi.", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6), new SpeakerLabel("Ana", "#ff0000")),
            ],
            timeline,
            TimeSpan.FromSeconds(4));

        Assert.Equal(2, lines.Count);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 15, 0, 11, 900, TimeSpan.Zero), lines[0].SpokenAt);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 15, 0, 15, 900, TimeSpan.Zero), lines[0].Time);
        Assert.Equal("Hello there.", lines[0].Text);
        Assert.Equal("Ana: Hi.", lines[1].Text);
    }

    private sealed class MemoryStore : IYouTubeSettingsStore
    {
        public SavedYouTubeSettings? Saved { get; set; }

        public SavedYouTubeSettings? Load() => Saved;

        public void Save(YouTubeSettings settings) =>
            Saved = new SavedYouTubeSettings(1, settings.Url?.Secret, settings.Enabled, settings.Language, settings.OffsetSeconds);
    }
}
