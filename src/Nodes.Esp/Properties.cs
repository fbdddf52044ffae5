[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Nodes.Esp.Tests")]
