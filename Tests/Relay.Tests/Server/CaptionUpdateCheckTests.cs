using System.Text;

namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>What the relay forwards from NATS, and what it refuses.</summary>
public sealed class CaptionUpdateCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static byte[] Json(string language = "es") =>
        Encoding.UTF8.GetBytes($$"""{"language":"{{language}}","sequence":17,"lines":[{"final":"Hola","tentative":" a"}],"cleared":false,"timestamp":"2026-12-03T12:00:00Z"}""");

    [Fact]
    public void AValidUpdate_IsForwardedWithItsKind()
    {
        var result = CaptionUpdateCheck.Check("demo.es", Json(), CaptionUpdateKinds.Tentative, null, Now);
        var update = Assert.IsType<StreamCaptionUpdate>(result.Update);
        Assert.Equal(("demo", "es", "tentative", 17L), (update.Stream, update.Language, update.Kind, update.Caption.Sequence));
        Assert.Equal("Hola", update.Caption.Lines[0].Final);
    }

    [Theory]
    [InlineData("demo", "es", "tentative", "not STREAM.LANG")]
    [InlineData("demo.es.x", "es", "final", "not STREAM.LANG")]
    [InlineData("demo.en", "es", "final", "language 'es' is not the key's 'en'")]
    [InlineData("demo.es", "es", "shouting", "header 'shouting'")]
    public void AMismatch_IsRefused(string key, string language, string kind, string problem)
    {
        var result = CaptionUpdateCheck.Check(key, Json(language), kind, null, Now);
        Assert.Null(result.Update);
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void NotJson_Empty_OrTooLarge_IsRefused()
    {
        Assert.Contains("not a caption", CaptionUpdateCheck.Check("demo.es", "{nope"u8.ToArray(), "final", null, Now).Problem, StringComparison.Ordinal);
        Assert.Contains("empty", CaptionUpdateCheck.Check("demo.es", [], "final", null, Now).Problem, StringComparison.Ordinal);
        Assert.Contains("over 65536", CaptionUpdateCheck.Check("demo.es", new byte[65537], "final", null, Now).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ADeletedKey_IsClosed()
    {
        var update = CaptionUpdateCheck.Check("demo.es", null, null, "DEL", Now).Update;
        Assert.Equal(CaptionUpdateKinds.Closed, update?.Kind);
        Assert.True(update?.Caption.Cleared);
    }
}
