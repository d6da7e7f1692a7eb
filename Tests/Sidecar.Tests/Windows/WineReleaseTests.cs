namespace CaptionSidecar.Tests.Windows;

/// <summary>The Windows release under Wine, as a streamer first meets it: it starts and says what it is.</summary>
[Trait("Category", "Integration")]
[Trait("Category", "Wine")]
public sealed class WineReleaseTests
{
    [Fact]
    public async Task Version_PrintsTheReleaseVersionAndExitsZero()
    {
        var (code, stdout, stderr) = await WineSidecar.RunAsync(["--version"], TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        var expected = typeof(CaptionSidecar.Hosting.SidecarOptions).Assembly.GetName().Version!;
        Assert.StartsWith($"{expected.Major}.{expected.Minor}.{expected.Build}", stdout.Trim(), StringComparison.Ordinal);
    }
}
