using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>Choosing the program <c>--input process:NAME</c> captures.</summary>
public sealed class ProcessTargetsTests
{
    private static readonly RunningProcess[] Running =
    [
        new(4, "System"),
        new(812, "svchost"),
        new(5120, "Discord"),
        new(5188, "Discord"),
        new(7000, "obs64"),
        new(7344, "Zoom"),
        new(9001, "ZoomWebviewHost"),
    ];

    [Theory]
    [InlineData("obs64")]
    [InlineData("OBS64.exe")]
    [InlineData(" obs64.EXE ")]
    [InlineData("7000")]
    public void Resolve_NameWithOrWithoutExeOrItsId_GivesThatProcess(string name)
    {
        Assert.Equal(new RunningProcess(7000, "obs64"), ProcessTargets.Resolve(name, Running));
    }

    [Fact]
    public void Resolve_ExactNameWinsOverLongerNamesContainingIt()
    {
        Assert.Equal(7344, ProcessTargets.Resolve("zoom", Running).Id);
    }

    [Fact]
    public void Resolve_SeveralProcessesOfThatName_ListsTheirIdsAndHowToChoose()
    {
        var ex = Assert.Throws<IOException>(() => ProcessTargets.Resolve("discord.exe", Running));

        Assert.Contains("2 processes are called 'discord'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("5120, 5188", ex.Message, StringComparison.Ordinal);
        Assert.Contains("process:ID", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoSuchProgram_ListsSimilarNames()
    {
        var ex = Assert.Throws<IOException>(() => ProcessTargets.Resolve("ZoomWebview", Running));

        Assert.Contains("No running program is called 'ZoomWebview'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Similar names: Zoom, ZoomWebviewHost.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NothingSimilar_ListsTheRunningPrograms()
    {
        var ex = Assert.Throws<IOException>(() => ProcessTargets.Resolve("Teams", Running));

        Assert.Contains("No running program is called 'Teams' (--input process:Teams); start it first.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Running programs: Discord, obs64, svchost, System, Zoom, ZoomWebviewHost.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_IdOfNoProcess_SaysItMayHaveExited()
    {
        var ex = Assert.Throws<IOException>(() => ProcessTargets.Resolve("4242", Running));

        Assert.Contains("No running process has id 4242", ex.Message, StringComparison.Ordinal);
    }
}
