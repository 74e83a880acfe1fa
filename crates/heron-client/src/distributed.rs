//! Distributed training: the process's rank from the launcher's environment variables
//! (torchrun / torch.distributed.launch, SLURM, Open MPI, MPICH / Intel MPI).

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct Rank {
    pub rank: u32,
    pub local_rank: Option<u32>,
    pub world_size: u32,
    /// `torchrun`, `slurm` or `mpi`.
    pub launcher: &'static str,
    /// An id shared by every process of the job, used as the default run group.
    pub job: Option<String>,
}

impl Rank {
    pub fn to_json(&self) -> Value {
        json!({
            "rank": self.rank,
            "local_rank": self.local_rank,
            "world_size": self.world_size,
            "launcher": self.launcher,
            "job": self.job,
        })
    }
}

/// The rank of this process, when it is one of several.
pub fn detect() -> Option<Rank> {
    detect_from(|name| std::env::var(name).ok())
}

pub fn detect_from(env: impl Fn(&str) -> Option<String>) -> Option<Rank> {
    let num = |name: &str| env(name).and_then(|v| v.trim().parse::<u32>().ok());
    let text = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty() && v != "none");
    let found = if let (Some(rank), Some(world_size)) = (num("RANK"), num("WORLD_SIZE")) {
        let job = text("TORCHELASTIC_RUN_ID").or_else(|| match (text("MASTER_ADDR"), text("MASTER_PORT")) {
            (Some(addr), Some(port)) => Some(format!("{addr}-{port}")),
            _ => None,
        });
        Rank { rank, local_rank: num("LOCAL_RANK"), world_size, launcher: "torchrun", job }
    } else if let (Some(rank), Some(world_size)) = (num("OMPI_COMM_WORLD_RANK"), num("OMPI_COMM_WORLD_SIZE")) {
        Rank {
            rank,
            local_rank: num("OMPI_COMM_WORLD_LOCAL_RANK"),
            world_size,
            launcher: "mpi",
            job: text("OMPI_MCA_orte_ess_jobid"),
        }
    } else if let (Some(rank), Some(world_size)) = (num("PMI_RANK"), num("PMI_SIZE")) {
        Rank { rank, local_rank: num("MPI_LOCALRANKID"), world_size, launcher: "mpi", job: text("PMI_JOBID") }
    } else if let (Some(rank), Some(world_size)) = (num("SLURM_PROCID"), num("SLURM_NTASKS")) {
        let job = text("SLURM_JOB_ID").map(|id| match text("SLURM_STEP_ID") {
            Some(step) => format!("slurm-{id}.{step}"),
            None => format!("slurm-{id}"),
        });
        Rank { rank, local_rank: num("SLURM_LOCALID"), world_size, launcher: "slurm", job }
    } else {
        return None;
    };
    (found.world_size > 1).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Option<Rank> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        detect_from(|name| map.get(name).cloned())
    }

    #[test]
    fn launchers_are_recognised() {
        let torch = with(&[("RANK", "3"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1"), ("TORCHELASTIC_RUN_ID", "job7")]);
        assert_eq!(
            torch,
            Some(Rank { rank: 3, local_rank: Some(1), world_size: 8, launcher: "torchrun", job: Some("job7".into()) })
        );
        let rdzv_default = with(&[
            ("RANK", "0"),
            ("WORLD_SIZE", "2"),
            ("TORCHELASTIC_RUN_ID", "none"),
            ("MASTER_ADDR", "10.0.0.1"),
            ("MASTER_PORT", "29500"),
        ]);
        assert_eq!(rdzv_default.unwrap().job.as_deref(), Some("10.0.0.1-29500"));
        let slurm =
            with(&[("SLURM_PROCID", "5"), ("SLURM_NTASKS", "16"), ("SLURM_LOCALID", "1"), ("SLURM_JOB_ID", "991")]);
        assert_eq!(
            slurm.as_ref().map(|r| (r.rank, r.launcher, r.job.as_deref())),
            Some((5, "slurm", Some("slurm-991")))
        );
        let mpi = with(&[("OMPI_COMM_WORLD_RANK", "2"), ("OMPI_COMM_WORLD_SIZE", "4")]);
        assert_eq!(mpi.map(|r| (r.rank, r.world_size, r.launcher)), Some((2, 4, "mpi")));
        let pmi = with(&[("PMI_RANK", "1"), ("PMI_SIZE", "2")]);
        assert_eq!(pmi.map(|r| r.rank), Some(1));
    }

    #[test]
    fn a_single_process_or_garbage_is_not_distributed() {
        assert_eq!(with(&[]), None);
        assert_eq!(with(&[("RANK", "0"), ("WORLD_SIZE", "1")]), None);
        assert_eq!(with(&[("RANK", "x"), ("WORLD_SIZE", "4")]), None);
        assert_eq!(with(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1")]), None);
    }
}
