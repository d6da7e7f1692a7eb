using CaptionSidecar.Hosting;

namespace CaptionSidecar.Tests.Hosting;

/// <summary>When a failed start keeps its console window open for the streamer to read.</summary>
public sealed class ConsoleWindowTests
{
    [Theory]
    [InlineData(2, 1, false, true)]   // double-clicked, invalid settings: wait
    [InlineData(1, 1, false, true)]   // double-clicked, the run failed: wait
    [InlineData(0, 1, false, false)]  // double-clicked, a clean stop (Quit, Ctrl+C): close
    [InlineData(2, 2, false, false)]  // started from cmd or PowerShell: the message stays there
    [InlineData(2, 3, false, false)]
    [InlineData(2, 0, false, false)]  // no console at all (a service, Linux, a pipe under Wine)
    [InlineData(2, 1, true, false)]   // input redirected: a script, nobody to press Enter
    public void ShouldWaitForEnter_OnlyAFailureAloneOnItsConsoleWithAKeyboard(int exitCode, int processes, bool inputRedirected, bool expected)
    {
        Assert.Equal(expected, ConsoleWindow.ShouldWaitForEnter(exitCode, processes, inputRedirected));
    }

    // Skipped by the attribute, not by Assert.Skip: a synchronous test that throws xunit's skip exception hangs the
    // runner under Wine (see docs/windows.md).
    public static bool OnWindows => OperatingSystem.IsWindows();

    [Fact(Skip = "Off Windows there is no console process list.", SkipWhen = nameof(OnWindows))]
    public void ProcessCount_OffWindows_IsZero()
    {
        Assert.Equal(0, ConsoleWindow.ProcessCount());
    }
}
