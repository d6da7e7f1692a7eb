namespace CaptionSidecar.Hosting;

/// <summary>Parses the command line and runs the chosen command.</summary>
public static class SidecarCommandLine
{
    /// <summary>Runs the sidecar; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Console.Error.WriteLine("CaptionSidecar: the command line is being built (issue 2).");
        return Task.FromResult(2);
    }
}
